/**
 * Feeds a JobsModel from the server: a page of the list and the spend on every
 * (re)connection of the event stream, then each event. The app-wide feed is this
 * user's; a team feed (the panel's "Team" view) lists everyone's jobs and the
 * team's spend, and only this user's jobs stream (the server streams no others).
 */
import type { IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';

import type { ConnectionState, EventStream } from './events';
import type { JobsModel } from './panel-model';
import type { ISeedanceServices } from './services';
import type { IJobSummary, ISpend } from './types';

const PAGE = 100;

export class JobsFeed implements IDisposable {
  constructor(
    private readonly _services: ISeedanceServices,
    readonly model: JobsModel,
    readonly team = false
  ) {
    const events = _services.events;
    events.jobChanged.connect(this._onJob, this);
    events.spendChanged.connect(this._onSpend, this);
    events.stateChanged.connect(this._onState, this);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** True while older jobs than those loaded exist on the server. */
  get hasOlder(): boolean {
    return this._next !== null;
  }

  get lastError(): string | null {
    return this._lastError;
  }

  /** The newest page and the spend: what may have changed while we were not listening. */
  async refresh(): Promise<void> {
    try {
      const [page, spend] = await Promise.all([
        this._services.client.listJobs({ limit: PAGE, team: this.team }),
        this._services.client.getSpend(this.team)
      ]);
      if (this._firstPage) {
        this._next = page.next;
        this._firstPage = false;
      }
      this.model.applyAll(page.jobs);
      this.model.setSpend(spend);
      this._lastError = null;
    } catch (error) {
      this._lastError = error instanceof Error ? error.message : String(error);
      this.model.applyAll([]);
    }
  }

  async loadOlder(): Promise<void> {
    if (this._next === null) {
      return;
    }
    const page = await this._services.client.listJobs({
      limit: PAGE,
      before: this._next,
      team: this.team
    });
    this._next = page.next;
    this.model.applyAll(page.jobs);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _onJob(_: EventStream, job: IJobSummary): void {
    this.model.apply(job);
  }

  /** The event carries this user's spend; a team feed asks for the team's again. */
  private _onSpend(_: EventStream, spend: ISpend): void {
    if (!this.team) {
      this.model.setSpend(spend);
      return;
    }
    void this._services.client.getSpend(true).then(
      team => {
        this.model.setSpend(team);
      },
      // Unanswered: the team's last spend stays until the next event or refresh.
      () => undefined
    );
  }

  private _onState(_: EventStream, state: ConnectionState): void {
    if (state === 'open') {
      void this.refresh();
    }
  }

  private _next: string | null = null;
  private _firstPage = true;
  private _lastError: string | null = null;
  private _isDisposed = false;
}
