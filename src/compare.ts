/**
 * Compare: 2–4 takes side by side, driven by one play/pause and seek bar
 * (SyncGroup keeps them in step), with each take's parameters and cost below.
 */
import { Widget } from '@lumino/widgets';

import { SyncGroup } from './compare-model';
import { button, el, setText } from './dom';
import { chargeLabel } from './card-model';
import { formatElapsed, formatParams } from './format';
import { videoSource } from './media';
import { MSG } from './messages';
import type { IJobSummary } from './types';

export class CompareView extends Widget {
  constructor(jobs: readonly IJobSummary[], baseUrl: string) {
    super();
    this.addClass('seedance-compare');
    this.addClass('tex2jax_ignore');
    this.addClass('mathjax_ignore');
    this.id = `seedance-compare-${++CompareView._count}`;
    this.title.label = MSG.compareTitle;
    this.title.closable = true;

    const grid = el('div', {
      class: 'seedance-compare-grid',
      'data-count': String(jobs.length)
    });
    const videos = jobs.map((job, i) => {
      const video = el('video', {
        class: 'seedance-video',
        src: videoSource(job, baseUrl) ?? '',
        preload: 'auto',
        playsinline: '',
        'aria-label': MSG.videoLabel(job.prompt)
      });
      // One soundtrack at a time: the first take's.
      video.muted = i > 0;
      video.addEventListener('loadedmetadata', () => {
        this._syncBar();
      });
      grid.append(
        el('figure', { class: 'seedance-compare-take' }, [
          video,
          el('figcaption', {}, [
            el('div', { class: 'seedance-prompt' }, [job.prompt]),
            el('div', { class: 'seedance-params' }, [formatParams(job)]),
            el('div', { class: 'seedance-cost' }, [chargeLabel(job)]),
            el('div', { class: 'seedance-params' }, [job.requestId ?? ''])
          ])
        ])
      );
      return video;
    });
    this._group = new SyncGroup(videos);

    this._toggle.addEventListener('click', () => {
      if (this._group.paused) {
        void this._group.play().then(() => {
          this._tick();
        });
      } else {
        this._group.pause();
      }
      this._syncBar();
    });
    this._seek.addEventListener('input', () => {
      this._group.seek(Number(this._seek.value));
      this._syncBar();
    });
    for (const video of videos) {
      video.addEventListener('pause', () => {
        this._syncBar();
      });
    }
    this.node.append(
      grid,
      el('div', { class: 'seedance-compare-bar' }, [
        this._toggle,
        this._seek,
        this._clock
      ])
    );
    this._syncBar();
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    cancelAnimationFrame(this._frame);
    this._group.pause();
    super.dispose();
  }

  protected override onBeforeHide(): void {
    this._group.pause();
    this._syncBar();
  }

  /** While playing: correct drift every frame and move the bar. */
  private _tick(): void {
    cancelAnimationFrame(this._frame);
    if (this.isDisposed || this._group.paused) {
      this._syncBar();
      return;
    }
    this._group.correct();
    this._syncBar();
    this._frame = requestAnimationFrame(() => {
      this._tick();
    });
  }

  private _syncBar(): void {
    const duration = Number.isFinite(this._group.duration)
      ? this._group.duration
      : 0;
    const time = this._group.time;
    this._seek.max = String(duration);
    this._seek.value = String(time);
    const text = `${formatElapsed(time)} / ${formatElapsed(duration)}`;
    this._seek.setAttribute('aria-valuetext', text);
    setText(this._clock, text);
    const label = this._group.paused ? MSG.playAll : MSG.pauseAll;
    setText(this._toggle, label);
  }

  private static _count = 0;
  private readonly _group: SyncGroup;
  private _frame = 0;
  private readonly _toggle = button(undefined, 'accept');
  private readonly _seek = el('input', {
    type: 'range',
    min: '0',
    step: '0.01',
    'aria-label': MSG.position
  });
  private readonly _clock = el('span', { class: 'seedance-compare-clock' });
}
