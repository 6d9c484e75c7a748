/**
 * The "Seedance" sidebar, drawn like JupyterLab's own: a header with the spend
 * against the budgets, a toolbar (Mine / Team, status and notebook filters,
 * Gallery, Compare) and every job across notebooks, live from the event stream.
 * The gallery, compare and the video viewer open in the main area.
 */
import { Notification } from '@jupyterlab/apputils';
import { CommandToolbarButton, Toolbar } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import type { IJobActions } from './actions';
import { button, el, setText, setVisible } from './dom';
import type { ConnectionState, EventStream } from './events';
import { JobsFeed } from './feed';
import { FilterSelect } from './filter-select';
import { seedanceIcon } from './icons';
import { JobList } from './job-list';
import { MSG } from './messages';
import { PanelHead } from './panel-head';
import {
  JobsModel,
  SCOPES,
  shortLabel,
  STATUS_FILTERS,
  type IJobFilter,
  type INotebookLink,
  type StatusFilter
} from './panel-model';
import { reason, type ISeedanceServices } from './services';
import type { IJobSummary } from './types';

export const PANEL_ID = 'seedance-jupyter-panel';
export const COMMAND_COMPARE = 'seedance:compare';
export const COMMAND_GALLERY = 'seedance:open-gallery';

export class SeedancePanel extends Panel implements IJobActions {
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
    // An icon-only tab like JupyterLab's own sidebars; the caption is its tooltip.
    this.title.caption = MSG.panelCaption;
    this.title.icon = seedanceIcon;

    this._list = new JobList(this);
    this._statusFilter.setOptions(STATUS_FILTERS);
    this._scope.setOptions(SCOPES);
    this._scope.addClass('seedance-scope');
    this._older.addEventListener('click', () => {
      void this._shown.loadOlder().catch((error: unknown) => {
        Notification.error(reason(error));
      });
    });

    const toolbar = this._buildToolbar();
    const body = new Widget();
    body.addClass('seedance-panel-body');
    body.node.append(this._list.node, this._empty, this._older);
    const filters = new Panel();
    filters.addClass('seedance-filters');
    filters.addWidget(this._scope);
    filters.addWidget(this._statusFilter);
    filters.addWidget(this._notebookFilter);
    this.addWidget(this._head);
    this.addWidget(toolbar);
    this.addWidget(filters);
    this.addWidget(body);

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
    this._team?.dispose();
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
    void this._commands.execute(COMMAND_GALLERY, { play: job.clientToken });
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
  }

  /** Gallery and Compare as JupyterLab's toolbar buttons, enabled as their commands say. */
  private _buildToolbar(): Toolbar {
    const toolbar = new Toolbar();
    toolbar.addClass('seedance-toolbar');
    toolbar.addItem(
      'gallery',
      new CommandToolbarButton({
        commands: this._commands,
        id: COMMAND_GALLERY,
        label: MSG.galleryTab
      })
    );
    toolbar.addItem(
      'compare',
      new CommandToolbarButton({
        commands: this._commands,
        id: COMMAND_COMPARE,
        label: MSG.compareLabel
      })
    );
    return toolbar;
  }

  private _onFilter(): void {
    const notebook = this._notebookFilter.value;
    this._filter = {
      status: this._statusFilter.value as StatusFilter,
      notebook: notebook === '' ? null : notebook
    };
    this._render();
  }

  /** The feed the list shows: this user's, or the team's while "Team" is chosen. */
  private get _shown(): JobsFeed {
    return this._isTeam && this._team ? this._team : this._feed;
  }

  private get _isTeam(): boolean {
    return this._scope.value === 'team';
  }

  /** "Team": everyone's jobs and spend, fetched afresh each time it is chosen. */
  private _onScope(): void {
    if (this._isTeam) {
      if (!this._team) {
        const model = new JobsModel(this.model.baseUrl);
        this._team = new JobsFeed(this._services, model, true);
        model.changed.connect(this._schedule, this);
      }
      void this._team.refresh();
    }
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
    const feed = this._shown;
    const model = feed.model;
    this._notebookFilter.setOptions([
      { value: '', label: MSG.allNotebooks },
      ...model
        .notebooks()
        .map(n => ({ value: n, label: shortLabel(n), title: n }))
    ]);
    this._head.render(model.spend, this._isTeam);
    const jobs = model.list(this._filter);
    // Compare picks are this user's (the app-wide model), whichever list shows.
    this._list.render(jobs, this.model, Date.now(), this._isTeam);
    const problem = feed.lastError;
    setText(this._empty, problem ?? MSG.noJobs);
    setVisible(this._empty, jobs.length === 0 || problem !== null);
    setVisible(this._older, feed.hasOlder);
  }

  private readonly _list: JobList;
  private _team: JobsFeed | null = null;
  private readonly _scope = new FilterSelect(MSG.scopeFilter, () => {
    this._onScope();
  });
  private _filter: IJobFilter = { status: 'all', notebook: null };
  private _frame = 0;
  private _ageTimer = 0;
  private readonly _statusFilter = new FilterSelect(MSG.statusFilter, () => {
    this._onFilter();
  });
  private readonly _notebookFilter = new FilterSelect(
    MSG.notebookFilter,
    () => {
      this._onFilter();
    }
  );
  private readonly _connection = el(
    'div',
    { class: 'seedance-note', role: 'status' },
    []
  );
  private readonly _head = new PanelHead(this._connection);
  private readonly _empty = el('p', { class: 'seedance-note' });
  private readonly _older = button(MSG.showOlder);
}
