/**
 * The panel's job list. Items are kept by client token and updated in place,
 * so an event never steals keyboard focus from a button someone is on.
 */
import { button, el, KeyedChildren, setText, setVisible } from './dom';
import { chargeLabel } from './card-model';
import { copyWithFeedback } from './copy';
import { formatAge, formatParams, formatProblem } from './format';
import { videoSource } from './media';
import { MSG } from './messages';
import type { IJobActions } from './actions';
import { notebookLink, type JobsModel } from './panel-model';
import { isCancellable, type IJobSummary } from './types';

class JobItem {
  readonly node = el('li', { class: 'seedance-job' });

  constructor(
    private _job: IJobSummary,
    private readonly _actions: IJobActions
  ) {
    this._cancel.addEventListener('click', () => {
      this._cancel.disabled = true;
      void this._actions.cancel(this._job).finally(() => {
        this._cancel.disabled = false;
      });
    });
    this._play.addEventListener('click', () => {
      this._actions.play(this._job);
    });
    this._notebook.addEventListener('click', () => {
      if (this._job.notebook) {
        this._actions.openOrigin(
          notebookLink(this._job.notebook, this._job.notebookExists)
        );
      }
    });
    this._copy.addEventListener('click', () => {
      const id = this._job.requestId;
      if (id) {
        copyWithFeedback(this._copy, id, MSG.copyId);
      }
    });
    this._pick.addEventListener('change', () => {
      if (!this._actions.toggleSelected(this._job)) {
        this._pick.checked = false;
      }
    });
    this.node.append(
      el('div', { class: 'seedance-job-top' }, [this._status, this._prompt]),
      this._params,
      this._meta,
      this._error,
      el('div', { class: 'seedance-job-actions' }, [
        this._notebook,
        this._cancel,
        this._play,
        this._copy,
        el('label', { class: 'seedance-pick' }, [this._pick, MSG.compareLabel])
      ])
    );
  }

  /** `showUser`: the team's view, where each row names who submitted it. */
  update(
    job: IJobSummary,
    nowMs: number,
    model: JobsModel,
    showUser: boolean
  ): void {
    this._job = job;
    this.node.dataset.status = job.status;
    setText(this._status, job.statusLabel || job.status);
    setText(this._prompt, job.prompt);
    this._prompt.title = job.prompt;
    setText(this._params, formatParams(job));
    const meta = [chargeLabel(job), formatAge(nowMs / 1000 - job.createdAt)];
    if (showUser && job.user) {
      meta.unshift(MSG.byUser(job.user));
    }
    setText(this._meta, meta.join(' · '));
    const problem = formatProblem(job);
    setText(this._error, problem ?? '');
    setVisible(this._error, problem !== null);

    const origin =
      job.notebook === null
        ? null
        : notebookLink(job.notebook, job.notebookExists);
    setVisible(this._notebook, origin !== null);
    if (origin) {
      setText(this._notebook, origin.label);
      this._notebook.disabled = !origin.linkable;
      this._notebook.setAttribute(
        'aria-label',
        origin.isFolder
          ? MSG.showFolder(origin.label)
          : MSG.openNotebook(origin.label)
      );
    }

    setVisible(
      this._cancel,
      job.requestId !== null && isCancellable(job.status)
    );
    this._cancel.setAttribute('aria-label', MSG.cancelJob(job.requestId ?? ''));

    const playable = videoSource(job, model.baseUrl) !== null;
    setVisible(this._play, playable);
    this._play.setAttribute('aria-label', MSG.playJob(job.prompt));

    setVisible(this._copy, job.requestId !== null);
    this._copy.setAttribute('aria-label', MSG.copyIdOf(job.requestId ?? ''));

    setVisible(this._pick.parentElement as HTMLElement, playable);
    this._pick.checked = model.isSelected(job.clientToken);
    this._pick.setAttribute('aria-label', MSG.selectForCompare(job.prompt));
  }

  private readonly _status = el('span', { class: 'seedance-job-status' });
  private readonly _prompt = el('span', { class: 'seedance-job-prompt' });
  private readonly _params = el('div', { class: 'seedance-job-params' });
  private readonly _meta = el('div', { class: 'seedance-job-meta' });
  private readonly _error = el('div', { class: 'seedance-error' });
  private readonly _notebook = el('button', {
    class: 'seedance-link',
    type: 'button'
  });
  private readonly _cancel = button(MSG.cancel, 'warn');
  private readonly _play = button(MSG.play);
  private readonly _copy = button(MSG.copyId);
  private readonly _pick = el('input', { type: 'checkbox' });
}

export class JobList {
  readonly node = el('ul', {
    class: 'seedance-job-list',
    'aria-label': 'Seedance jobs'
  });

  constructor(actions: IJobActions) {
    this._items = new KeyedChildren(
      this.node,
      job => job.clientToken,
      job => new JobItem(job, actions)
    );
  }

  render(
    jobs: IJobSummary[],
    model: JobsModel,
    nowMs: number,
    showUser = false
  ): void {
    this._items.render(jobs, (item, job) => {
      item.update(job, nowMs, model, showUser);
    });
  }

  private readonly _items: KeyedChildren<IJobSummary, JobItem>;
}
