/**
 * The "Seedance" sidebar: every job across notebooks, live from the event
 * stream; spend against the budgets; a gallery of finished videos; picks for compare.
 */
import { Clipboard, Notification } from '@jupyterlab/apputils';
import type { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { IJobActions } from './actions';
import { button, el, setText, setVisible } from './dom';
import type { ConnectionState, EventStream } from './events';
import type { JobsFeed } from './feed';
import { formatParams } from './format';
import { Gallery } from './gallery';
import { seedanceIcon } from './icons';
import { JobList } from './job-list';
import { videoSource } from './media';
import { MSG } from './messages';
import {
  spendView,
  type IJobFilter,
  type INotebookLink,
  type JobsModel,
  type StatusFilter
} from './panel-model';
import { reason, type ISeedanceServices } from './services';
import { STATUSES, type IJobSummary } from './types';

export const PANEL_ID = 'seedance-jupyter-panel';
export const COMMAND_COMPARE = 'seedance:compare';

type Tab = 'jobs' | 'gallery';

export class SeedancePanel extends Widget implements IJobActions {
  constructor(
    private readonly _services: ISeedanceServices,
    private readonly _feed: JobsFeed,
    private readonly _commands: CommandRegistry
  ) {
    super();
    this.id = PANEL_ID;
    this.addClass('seedance-panel');
    this.addClass('tex2jax_ignore');
    this.addClass('mathjax_ignore');
    this.title.label = MSG.panelTitle;
    this.title.caption = MSG.panelCaption;
    this.title.icon = seedanceIcon;

    this._list = new JobList(this);
    this._gallery = new Gallery(this);
    this._buildFilters();
    this._tabJobs.addEventListener('click', () => {
      this._setTab('jobs');
    });
    this._tabGallery.addEventListener('click', () => {
      this._setTab('gallery');
    });
    this._compare.addEventListener('click', () => {
      void this._commands.execute(COMMAND_COMPARE);
    });
    this._older.addEventListener('click', () => {
      void this._feed.loadOlder().catch((error: unknown) => {
        Notification.error(reason(error));
      });
    });
    this._closePlayer.addEventListener('click', () => {
      this._stopPlayer();
    });

    this.node.append(
      el('div', { class: 'seedance-panel-head' }, [
        el('h2', {}, [MSG.panelTitle]),
        el('dl', { class: 'seedance-spend' }, [
          el('dt', {}, [MSG.today]),
          this._today,
          el('dt', {}, [MSG.month]),
          this._month
        ])
      ]),
      this._connection,
      el('div', { class: 'seedance-tabs', role: 'tablist' }, [
        this._tabJobs,
        this._tabGallery
      ]),
      el('div', { class: 'seedance-filters' }, [
        this._statusFilter,
        this._notebookFilter
      ]),
      el('div', { class: 'seedance-compare-pick' }, [
        this._compare,
        el('span', {}, [MSG.compareHint])
      ]),
      this._player,
      el('div', { class: 'seedance-panel-body', role: 'tabpanel' }, [
        this._list.node,
        this._gallery.node,
        this._empty,
        this._older
      ])
    );
    this._setTab('jobs');

    _feed.model.changed.connect(this._schedule, this);
    _services.events.stateChanged.connect(this._onConnection, this);
    this._onConnection(_services.events, _services.events.state);
  }

  get model(): JobsModel {
    return this._feed.model;
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearInterval(this._ageTimer);
    cancelAnimationFrame(this._frame);
    Signal.clearData(this);
    super.dispose();
  }

  // IJobActions

  async cancel(job: IJobSummary): Promise<void> {
    if (!job.requestId) {
      return;
    }
    try {
      this.model.apply(await this._services.client.cancelJob(job.requestId));
    } catch (error) {
      Notification.error(MSG.cancelFailed(reason(error)));
      await this._feed.refresh();
    }
  }

  play(job: IJobSummary): void {
    const src = videoSource(job, this._services.baseUrl);
    if (!src) {
      return;
    }
    this._playerVideo.src = src;
    this._playerVideo.setAttribute('aria-label', MSG.videoLabel(job.prompt));
    setText(this._playerCaption, `${job.prompt} · ${formatParams(job)}`);
    setVisible(this._player, true);
    void this._playerVideo.play().catch(() => undefined);
    this._playerVideo.focus();
  }

  openOrigin(link: INotebookLink): void {
    if (!link.linkable) {
      return;
    }
    if (!link.isFolder) {
      void this._commands.execute('docmanager:open', { path: link.path });
    } else if (this._commands.hasCommand('filebrowser:go-to-path')) {
      void this._commands.execute('filebrowser:go-to-path', {
        path: link.path
      });
    }
  }

  copyId(requestId: string): Promise<void> {
    Clipboard.copyToSystem(requestId);
    return Promise.resolve();
  }

  toggleSelected(job: IJobSummary): boolean {
    return this.model.toggleSelected(job.clientToken);
  }

  protected override onAfterShow(): void {
    this._render();
    this._ageTimer = window.setInterval(() => {
      this._schedule();
    }, 30000);
  }

  protected override onBeforeHide(): void {
    window.clearInterval(this._ageTimer);
    this._stopPlayer();
  }

  private _buildFilters(): void {
    const statusOptions: [StatusFilter, string][] = [
      ['all', MSG.allStatuses],
      ['running', MSG.running],
      ['finished', MSG.finished],
      ...STATUSES.map((s): [StatusFilter, string] => [s, s.replace(/_/g, ' ')])
    ];
    for (const [value, label] of statusOptions) {
      this._statusFilter.append(el('option', { value }, [label]));
    }
    this._statusFilter.addEventListener('change', () => {
      this._filter = {
        ...this._filter,
        status: this._statusFilter.value as StatusFilter
      };
      this._render();
    });
    this._notebookFilter.addEventListener('change', () => {
      const value = this._notebookFilter.value;
      this._filter = { ...this._filter, notebook: value === '' ? null : value };
      this._render();
    });
  }

  private _setTab(tab: Tab): void {
    this._tab = tab;
    this._tabJobs.setAttribute('aria-selected', String(tab === 'jobs'));
    this._tabGallery.setAttribute('aria-selected', String(tab === 'gallery'));
    setVisible(this._statusFilter, tab === 'jobs');
    this._render();
  }

  private _onConnection(events: EventStream, state: ConnectionState): void {
    setVisible(this._connection, state === 'waiting');
    setText(
      this._connection,
      MSG.disconnected(events.lastError?.message ?? null)
    );
  }

  /** Coalesce bursts of events into one render per frame, and none while hidden. */
  private _schedule(): void {
    if (this._frame || !this.isVisible) {
      return;
    }
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this._render();
    });
  }

  private _render(): void {
    if (!this.isVisible) {
      return;
    }
    const model = this.model;
    this._renderNotebookOptions(model.notebooks());
    const spend = model.spend;
    if (spend) {
      const view = spendView(spend);
      setText(
        this._today,
        view.todayOver ? `${view.today} (${MSG.overBudget})` : view.today
      );
      setText(
        this._month,
        view.monthOver ? `${view.month} (${MSG.overBudget})` : view.month
      );
      this._today.classList.toggle('seedance-over', view.todayOver);
      this._month.classList.toggle('seedance-over', view.monthOver);
    }
    const selected = model.selected().length;
    setText(this._compare, MSG.compare(selected));
    this._compare.disabled = !model.canCompare();

    const jobsTab = this._tab === 'jobs';
    setVisible(this._list.node, jobsTab);
    setVisible(this._gallery.node, !jobsTab);
    const now = Date.now();
    let shown: number;
    if (jobsTab) {
      const jobs = model.list(this._filter);
      this._list.render(jobs, model, now);
      shown = jobs.length;
    } else {
      const jobs = model.playable({
        status: 'all',
        notebook: this._filter.notebook
      });
      this._gallery.render(jobs, model);
      shown = jobs.length;
    }
    const problem = this._feed.lastError;
    setText(this._empty, problem ?? (jobsTab ? MSG.noJobs : MSG.noVideos));
    setVisible(this._empty, shown === 0 || problem !== null);
    setVisible(this._older, this._feed.hasOlder);
  }

  private _renderNotebookOptions(notebooks: string[]): void {
    const key = notebooks.join('\n');
    if (key === this._notebooksKey) {
      return;
    }
    this._notebooksKey = key;
    const current = this._notebookFilter.value;
    this._notebookFilter.replaceChildren(
      el('option', { value: '' }, [MSG.allNotebooks]),
      ...notebooks.map(n => el('option', { value: n }, [n]))
    );
    this._notebookFilter.value = notebooks.includes(current) ? current : '';
  }

  private _stopPlayer(): void {
    this._playerVideo.pause();
    this._playerVideo.removeAttribute('src');
    this._playerVideo.load();
    setVisible(this._player, false);
  }

  private readonly _list: JobList;
  private readonly _gallery: Gallery;
  private _tab: Tab = 'jobs';
  private _filter: IJobFilter = { status: 'all', notebook: null };
  private _frame = 0;
  private _ageTimer = 0;
  private _notebooksKey: string | null = null;
  private readonly _today = el('dd', {}, ['—']);
  private readonly _month = el('dd', {}, ['—']);
  private readonly _connection = el(
    'div',
    { class: 'seedance-note', role: 'status' },
    []
  );
  private readonly _tabJobs = el(
    'button',
    { class: 'seedance-tab', role: 'tab', type: 'button' },
    [MSG.jobsTab]
  );
  private readonly _tabGallery = el(
    'button',
    { class: 'seedance-tab', role: 'tab', type: 'button' },
    [MSG.galleryTab]
  );
  private readonly _statusFilter = el('select', {
    class: 'jp-mod-styled',
    'aria-label': MSG.statusFilter
  });
  private readonly _notebookFilter = el('select', {
    class: 'jp-mod-styled',
    'aria-label': MSG.notebookFilter
  });
  private readonly _compare = button(undefined, 'accept');
  private readonly _playerVideo = el('video', {
    class: 'seedance-video',
    controls: '',
    playsinline: ''
  });
  private readonly _playerCaption = el('figcaption', {});
  private readonly _closePlayer = button(MSG.closePlayer);
  private readonly _player = el(
    'figure',
    { class: 'seedance-player', hidden: '' },
    [this._playerVideo, this._playerCaption, this._closePlayer]
  );
  private readonly _empty = el('p', { class: 'seedance-note' });
  private readonly _older = button(MSG.showOlder);
}
