/**
 * The gallery, in the main area: a responsive grid of posters of succeeded
 * videos, newest first, each with its prompt, model, duration and cost. A click
 * plays the take in the viewer above the grid; a tick picks it for compare.
 */
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { chargeLabel } from './card-model';
import { button, el, KeyedChildren, setText, setVisible } from './dom';
import { formatParams } from './format';
import { posterSource, videoSource } from './media';
import { MSG } from './messages';
import type { JobsModel } from './panel-model';
import type { IJobSummary } from './types';

interface ITileActions {
  play(job: IJobSummary): void;
  toggleSelected(job: IJobSummary): boolean;
}

class Tile {
  readonly node = el('li', { class: 'seedance-tile' });

  constructor(
    private _job: IJobSummary,
    actions: ITileActions
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
      this._cost,
      el('label', { class: 'seedance-pick' }, [this._pick, MSG.compareLabel])
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
    this._prompt.title = job.prompt;
    setText(this._caption, formatParams(job));
    setText(this._cost, chargeLabel(job));
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
  private readonly _cost = el('div', { class: 'seedance-tile-caption' });
  private readonly _pick = el('input', { type: 'checkbox' });
}

export class GalleryView extends Widget implements ITileActions {
  static readonly ID = 'seedance-gallery';

  constructor(private readonly _model: JobsModel) {
    super();
    this.id = GalleryView.ID;
    this.addClass('seedance-gallery-view');
    this.addClass('tex2jax_ignore');
    this.addClass('mathjax_ignore');
    this.title.label = MSG.galleryTitle;
    this.title.closable = true;
    this._tiles = new KeyedChildren(
      this._grid,
      job => job.clientToken,
      job => new Tile(job, this)
    );
    this._close.addEventListener('click', () => {
      this._stop();
    });
    this.node.append(this._viewer, this._grid, this._empty);
    _model.changed.connect(this._schedule, this);
    this._render();
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    cancelAnimationFrame(this._frame);
    this._stop();
    Signal.clearData(this);
    super.dispose();
  }

  /** Play `job` in the viewer above the grid. */
  play(job: IJobSummary): void {
    const src = videoSource(job, this._model.baseUrl);
    if (!src) {
      return;
    }
    this._video.src = src;
    this._video.setAttribute('aria-label', MSG.videoLabel(job.prompt));
    setText(
      this._caption,
      `${job.prompt} · ${formatParams(job)} · ${chargeLabel(job)}`
    );
    setVisible(this._viewer, true);
    void this._video.play().catch(() => undefined);
    this._video.focus();
  }

  toggleSelected(job: IJobSummary): boolean {
    return this._model.toggleSelected(job.clientToken);
  }

  protected override onBeforeHide(): void {
    this._video.pause();
  }

  private _schedule(): void {
    if (this._frame) {
      return;
    }
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this._render();
    });
  }

  private _render(): void {
    const jobs = this._model.playable();
    this._tiles.render(jobs, (tile, job) => {
      tile.update(job, this._model);
    });
    setVisible(this._empty, jobs.length === 0);
  }

  private _stop(): void {
    this._video.pause();
    this._video.removeAttribute('src');
    this._video.load();
    setVisible(this._viewer, false);
  }

  private readonly _tiles: KeyedChildren<IJobSummary, Tile>;
  private _frame = 0;
  private readonly _grid = el('ul', {
    class: 'seedance-gallery',
    'aria-label': MSG.galleryTitle
  });
  private readonly _empty = el('p', { class: 'seedance-note' }, [MSG.noVideos]);
  private readonly _video = el('video', {
    class: 'seedance-viewer-video',
    controls: '',
    playsinline: ''
  });
  private readonly _caption = el('figcaption', {});
  private readonly _close = button(MSG.closePlayer);
  private readonly _viewer = el(
    'figure',
    { class: 'seedance-viewer', hidden: '' },
    [this._video, this._caption, this._close]
  );
}
