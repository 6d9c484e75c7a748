/** The gallery: posters of succeeded videos, newest first; a click plays, a tick picks for compare. */
import type { IJobActions } from './actions';
import { el, KeyedChildren, setText } from './dom';
import { formatParams, formatUsd } from './format';
import { posterSource } from './media';
import { MSG } from './messages';
import type { JobsModel } from './panel-model';
import type { IJobSummary } from './types';

class Tile {
  readonly node = el('li', { class: 'seedance-tile' });

  constructor(
    private _job: IJobSummary,
    actions: IJobActions
  ) {
    this._play.addEventListener('click', () => {
      actions.play(this._job);
    });
    this._pick.addEventListener('change', () => {
      if (!actions.toggleSelected(this._job)) {
        this._pick.checked = false;
      }
    });
    this.node.append(
      this._play,
      this._prompt,
      this._caption,
      el('label', { class: 'seedance-pick' }, [this._pick, 'Compare'])
    );
  }

  update(job: IJobSummary, model: JobsModel): void {
    this._job = job;
    const poster = posterSource(job);
    const key = poster ?? '';
    if (key !== this._posterKey) {
      this._posterKey = key;
      this._play.replaceChildren(
        poster
          ? el('img', { src: poster, alt: '' })
          : el('span', { class: 'seedance-tile-blank' }, [job.prompt])
      );
    }
    this._play.setAttribute('aria-label', MSG.playJob(job.prompt));
    this._play.title = job.prompt;
    setText(this._prompt, job.prompt);
    setText(
      this._caption,
      `${formatParams(job)} · ${formatUsd(job.estimatedUsd)}`
    );
    this._pick.checked = model.isSelected(job.clientToken);
    this._pick.setAttribute('aria-label', MSG.selectForCompare(job.prompt));
  }

  private _posterKey: string | null = null;
  private readonly _play = el('button', {
    class: 'seedance-tile-play',
    type: 'button'
  });
  private readonly _prompt = el('div', { class: 'seedance-tile-prompt' });
  private readonly _caption = el('div', { class: 'seedance-tile-caption' });
  private readonly _pick = el('input', { type: 'checkbox' });
}

export class Gallery {
  readonly node = el('ul', {
    class: 'seedance-gallery',
    'aria-label': 'Seedance videos'
  });

  constructor(actions: IJobActions) {
    this._tiles = new KeyedChildren(
      this.node,
      job => job.clientToken,
      job => new Tile(job, actions)
    );
  }

  render(jobs: IJobSummary[], model: JobsModel): void {
    this._tiles.render(jobs, (tile, job) => {
      tile.update(job, model);
    });
  }

  private readonly _tiles: KeyedChildren<IJobSummary, Tile>;
}
