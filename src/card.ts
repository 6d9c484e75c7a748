/**
 * The MIME renderer's widget: one live job card. It starts from the output's
 * saved JobSummary, asks the server for the current state, then follows the
 * event stream, so a reopened notebook shows the job as it is now. Cancel is a
 * REST call to the server, so it works while the kernel is busy or gone; when
 * the server cannot (another service's job), the notebook's kernel is asked, and
 * when that cannot either, the card says so and how to cancel. Cancel is offered
 * only once the server has answered for the job. An untrusted output never makes
 * the browser fetch a remote URL by itself (see `holdBackMedia`).
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { ApiError } from './client';
import { CardMedia, CardReferences } from './card-media';
import {
  cancelFailure,
  cardView,
  holdBackMedia,
  mergeJob,
  sameJob
} from './card-model';
import { copyWithFeedback } from './copy';
import { el, setText, setVisible } from './dom';
import type { ConnectionState, EventStream } from './events';
import { MSG } from './messages';
import { reason, type ISeedanceServices } from './services';
import { isFinal, JOB_MIME_TYPE, type IJobSummary } from './types';

function isJobSummary(value: unknown): value is IJobSummary {
  const v = value as Partial<IJobSummary> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.clientToken === 'string' &&
    typeof v.status === 'string' &&
    typeof v.createdAt === 'number'
  );
}

export class JobCard extends Widget implements IRenderMime.IRenderer {
  constructor(private readonly _services: ISeedanceServices) {
    super();
    // tex2jax/mathjax_ignore: prompts and prices contain `$`, which must not be typeset.
    this.addClass('seedance-lab-card');
    this.addClass('tex2jax_ignore');
    this.addClass('mathjax_ignore');
    this.node.setAttribute('role', 'group');
    this.node.setAttribute('aria-label', 'Seedance job');
    this._cancel.addEventListener('click', () => {
      void this._onCancel();
    });
    this._copyId.addEventListener('click', () => {
      const id = this._job?.requestId;
      if (id) {
        copyWithFeedback(this._copyId, id, MSG.copy);
      }
    });
    this.node.append(
      el('div', { class: 'seedance-card-header' }, [this._prompt, this._badge]),
      this._params,
      this._references.node,
      el('div', { class: 'seedance-card-status' }, [
        this._status,
        this._elapsed,
        this._cost
      ]),
      el('div', { class: 'seedance-card-id' }, [this._requestId, this._copyId]),
      this._progress,
      el('div', { class: 'seedance-card-actions' }, [
        this._cancel,
        this._cancelError
      ]),
      this._error,
      this._notice,
      this._media.node,
      this._note
    );
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[JOB_MIME_TYPE];
    if (!isJobSummary(data)) {
      setText(this._note, 'This output is not a Seedance job.');
      return;
    }
    const first = this._job === null;
    // The kernel names the file relative to its notebook; the server (events,
    // refresh) relative to its root, which is what `files/` serves: wait for it.
    let saved: IJobSummary = data;
    if (!model.trusted) {
      const held = holdBackMedia(data);
      saved = held.job;
      this._heldBack = held.heldBack ?? this._heldBack;
    }
    this._job = mergeJob(this._job, {
      ...saved,
      localPath: this._job?.localPath ?? null
    });
    this._render();
    if (first) {
      const events = this._services.events;
      events.jobChanged.connect(this._onEvent, this);
      events.stateChanged.connect(this._onConnection, this);
      await this._refresh();
    }
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearInterval(this._timer);
    Signal.clearData(this);
    super.dispose();
  }

  private _onEvent(_: EventStream, job: IJobSummary): void {
    if (this._job && sameJob(this._job, job)) {
      this._update(job);
    }
  }

  private _onConnection(_: EventStream, state: ConnectionState): void {
    if (state === 'open') {
      void this._refresh();
    }
  }

  /** The server's current state of the job, which may have moved on since the save. */
  private async _refresh(): Promise<void> {
    const job = this._job;
    if (!job) {
      return;
    }
    try {
      const current =
        job.requestId !== null
          ? await this._services.client.getJob(job.requestId)
          : await this._services.client.findByClientToken(job.clientToken);
      setText(this._note, '');
      if (current) {
        this._update(current);
      }
    } catch (error) {
      // A job the server has no record of cannot be cancelled through it either.
      const unknown = error instanceof ApiError && error.code === 'not_found';
      this._known = this._known && !unknown;
      setText(
        this._note,
        unknown ? MSG.unknownJob : MSG.refreshFailed(reason(error))
      );
      this._render();
    }
  }

  private async _onCancel(): Promise<void> {
    const id = this._job?.requestId;
    if (!id) {
      return;
    }
    this._cancel.disabled = true;
    setText(this._cancel, MSG.cancelling);
    setText(this._cancelError, '');
    try {
      this._update(await this._services.client.cancelJob(id));
    } catch (error) {
      // Silent only when it finished meanwhile: the fresh state says how.
      await this._refresh();
      if (!(await this._cancelledInKernel(id))) {
        setText(this._cancelError, cancelFailure(error, this._job, id) ?? '');
      }
    } finally {
      this._cancel.disabled = false;
      setText(this._cancel, MSG.cancel);
    }
  }

  /** The server could not cancel: the notebook's kernel may (it has the job's service's key). */
  private async _cancelledInKernel(id: string): Promise<boolean> {
    const cancel = this._services.kernelCancel;
    if (!cancel || !this._job || isFinal(this._job.status)) {
      return false;
    }
    try {
      if (!(await cancel(this.node, id))) {
        return false;
      }
    } catch {
      return false;
    }
    await this._refresh();
    return isFinal(this._job.status) || this._job.status === 'cancelling';
  }

  /** A snapshot from the server (a GET, an event, a cancel's answer). */
  private _update(job: IJobSummary): void {
    if (this.isDisposed) {
      return;
    }
    this._known = true;
    this._job = mergeJob(this._job, job);
    this._render();
  }

  private _render(): void {
    if (!this._job) {
      return;
    }
    const view = cardView(this._job, Date.now(), this._services.baseUrl, {
      known: this._known,
      heldBack: this._heldBack
    });
    setText(this._prompt, view.prompt);
    setVisible(this._badge, view.isEmulator);
    setText(this._params, view.params);
    setText(this._status, view.statusLabel);
    this.node.dataset.status = view.status;
    setText(this._elapsed, view.elapsed);
    setText(this._cost, view.cost);
    setText(this._requestId, view.requestId ?? '');
    this._requestId.title = view.requestId ? MSG.requestIdTitle : '';
    setVisible(
      this._requestId.parentElement as HTMLElement,
      view.requestId !== null
    );
    this._copyId.setAttribute('aria-label', MSG.copyIdOf(view.requestId ?? ''));
    setVisible(this._progress, view.showProgress);
    this._progress.setAttribute('aria-valuetext', view.statusLabel);
    setVisible(this._cancel, view.showCancel);
    if (this._job.requestId) {
      this._cancel.setAttribute(
        'aria-label',
        MSG.cancelJob(this._job.requestId)
      );
    }
    setText(this._error, view.error ?? '');
    setVisible(this._error, view.error !== null);
    setText(this._notice, view.notice ?? '');
    setVisible(this._notice, view.notice !== null);
    this._media.render(view);
    this._references.render(view);
    this._syncTimer(view.ticking);
  }

  private _syncTimer(ticking: boolean): void {
    if (ticking && !this._timer) {
      this._timer = window.setInterval(() => {
        this._render();
      }, 1000);
    } else if (!ticking && this._timer) {
      window.clearInterval(this._timer);
      this._timer = 0;
    }
  }

  private _job: IJobSummary | null = null;
  private _known = false;
  private _heldBack: string | null = null;
  private _timer = 0;
  private readonly _prompt = el('span', { class: 'seedance-prompt' });
  private readonly _badge = el('span', { class: 'seedance-badge' }, [
    MSG.emulator
  ]);
  private readonly _params = el('div', { class: 'seedance-params' });
  private readonly _references = new CardReferences();
  private readonly _status = el('span', {
    class: 'seedance-status',
    role: 'status',
    'aria-live': 'polite'
  });
  private readonly _elapsed = el('span', { class: 'seedance-elapsed' });
  private readonly _cost = el('span', { class: 'seedance-cost' });
  private readonly _requestId = el('code', { class: 'seedance-request-id' });
  private readonly _copyId = el(
    'button',
    { class: 'jp-Button jp-mod-minimal seedance-copy-id', type: 'button' },
    [MSG.copy]
  );
  private readonly _progress = el(
    'div',
    {
      class: 'seedance-progress',
      role: 'progressbar',
      'aria-label': MSG.progress
    },
    [el('div', { class: 'seedance-progress-bar' })]
  );
  private readonly _cancel = el(
    'button',
    {
      class: 'jp-Button jp-mod-styled jp-mod-warn seedance-cancel',
      type: 'button'
    },
    [MSG.cancel]
  );
  private readonly _cancelError = el('span', { class: 'seedance-error' });
  private readonly _error = el('div', { class: 'seedance-error' });
  private readonly _notice = el('div', { class: 'seedance-notice' });
  private readonly _media = new CardMedia(url => {
    if (this._job) {
      this._heldBack = null;
      this._job = { ...this._job, outputUrl: url };
      this._render();
    }
  });
  private readonly _note = el('div', { class: 'seedance-note' });
}
