/**
 * Every job the server knows, kept current by events: the data behind the
 * panel, the gallery, compare and the status bar. No DOM here.
 */
import { type ISignal, Signal } from '@lumino/signaling';

import { mergeJob } from './card-model';
import { formatUsd } from './format';
import { videoSource } from './media';
import { MSG } from './messages';
import { isFinal, type IJobSummary, type ISpend, type Status } from './types';

/** The status filter's groups: what a person asks for, not the ledger's ten states. */
export const STATUS_FILTERS = [
  { value: 'all', label: MSG.allStatuses },
  { value: 'running', label: MSG.running },
  { value: 'finished', label: MSG.finished },
  { value: 'succeeded', label: MSG.succeeded },
  { value: 'failed', label: MSG.failedOrRefused },
  { value: 'cancelled', label: MSG.cancelled },
  { value: 'uncertain', label: MSG.uncertain }
] as const;

export type StatusFilter = (typeof STATUS_FILTERS)[number]['value'];

/** Whose jobs and spend the panel shows: this user's (the default) or the team's. */
export const SCOPES = [
  { value: 'mine', label: MSG.mine },
  { value: 'team', label: MSG.team }
] as const;

export type Scope = (typeof SCOPES)[number]['value'];

const GROUPS: Readonly<Record<StatusFilter, (status: Status) => boolean>> = {
  all: () => true,
  running: s => !isFinal(s),
  finished: s => isFinal(s),
  succeeded: s => s === 'succeeded',
  failed: s => s === 'failed' || s === 'rejected',
  cancelled: s => s === 'cancelled',
  uncertain: s => s === 'submission_uncertain'
};

export interface IJobFilter {
  status: StatusFilter;
  /** Null for every notebook. */
  notebook: string | null;
}

export const NO_FILTER: IJobFilter = { status: 'all', notebook: null };

/** Compare shows two to four takes side by side. */
export const COMPARE_MIN = 2;
export const COMPARE_MAX = 4;

export interface INotebookLink {
  /** Relative to the server root; '' is the root itself. */
  path: string;
  label: string;
  isFolder: boolean;
  /** False for a folder outside the server root, which Jupyter cannot open. */
  linkable: boolean;
}

/**
 * Where a job came from, relative to the server root: its notebook, or only the
 * folder (ending in `/`) when its kernel was not started for a notebook. A
 * notebook the server no longer finds is named as missing and not linked.
 */
export function notebookLink(
  notebook: string,
  exists: boolean | null | undefined = true
): INotebookLink {
  const path = notebook.replace(/\/+$/, '');
  const missing = exists === false;
  return {
    path,
    label: missing ? MSG.missingNotebook(path) : notebook,
    isFolder: notebook.endsWith('/') || !path.endsWith('.ipynb'),
    linkable: !missing && path !== '' && !path.startsWith('/')
  };
}

/** Labels longer than this are shortened in the middle, so a sidebar's select shows them whole. */
export const SHORT_LABEL_CHARS = 24;

/** `long/folder/My notebook….ipynb` → `long/fol…notebook.ipynb`: both ends stay readable. */
export function shortLabel(text: string, max = SHORT_LABEL_CHARS): string {
  if (text.length <= max) {
    return text;
  }
  const tail = Math.ceil((max - 1) / 2);
  return `${text.slice(0, max - 1 - tail)}…${text.slice(-tail)}`;
}

export function matches(job: IJobSummary, filter: IJobFilter): boolean {
  if (filter.notebook !== null && job.notebook !== filter.notebook) {
    return false;
  }
  return GROUPS[filter.status](job.status);
}

/** Newest first; the client token breaks ties so the order never flickers. */
export function newestFirst(a: IJobSummary, b: IJobSummary): number {
  return b.createdAt - a.createdAt || (a.clientToken < b.clientToken ? 1 : -1);
}

export interface ISpendView {
  today: string;
  month: string;
  todayOver: boolean;
  monthOver: boolean;
}

function against(spent: number, budget: number | null): string {
  return budget === null
    ? formatUsd(spent)
    : MSG.ofBudget(formatUsd(spent), formatUsd(budget));
}

export function spendView(spend: ISpend): ISpendView {
  return {
    today: against(spend.todayUsd, spend.dailyBudgetUsd),
    month: against(spend.monthUsd, spend.budgetUsd),
    todayOver:
      spend.dailyBudgetUsd !== null && spend.todayUsd > spend.dailyBudgetUsd,
    monthOver: spend.budgetUsd !== null && spend.monthUsd > spend.budgetUsd
  };
}

/** The status bar's line: jobs running and today's spend; with the team gateway, the
 * user's and the team's (the team's "unknown" when the gateway did not answer). */
export function statusText(spend: ISpend | null, running: number): string {
  const today = formatUsd(spend?.todayUsd ?? 0);
  const gateway = spend?.gateway;
  if (gateway === undefined) {
    return MSG.statusBar(running, today);
  }
  return gateway
    ? MSG.statusBarTeam(
        running,
        formatUsd(gateway.userTodayUsd),
        formatUsd(gateway.teamTodayUsd)
      )
    : MSG.statusBarTeam(running, today, null);
}

/** The team's spend this month per user, `alice $1.20 · bob $0.40`; '' when not sent. */
export function spendByUser(spend: ISpend): string {
  return (spend.byUser ?? [])
    .map(u => `${u.user} ${formatUsd(u.monthUsd)}`)
    .join(' · ');
}

/** Jobs are keyed by client token: the one id a job has from before its create POST. */
export class JobsModel {
  constructor(readonly baseUrl: string) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get spend(): ISpend | null {
    return this._spend;
  }

  get size(): number {
    return this._jobs.size;
  }

  get(clientToken: string): IJobSummary | undefined {
    return this._jobs.get(clientToken);
  }

  /** Add or update one job; stale snapshots never undo newer ones. */
  apply(job: IJobSummary): void {
    this._put(job);
    this._changed.emit();
  }

  /** Merge a page from the list endpoint (jobs not on it are older, not gone). */
  applyAll(jobs: IJobSummary[]): void {
    for (const job of jobs) {
      this._put(job);
    }
    this._changed.emit();
  }

  setSpend(spend: ISpend): void {
    this._spend = spend;
    this._changed.emit();
  }

  list(filter: IJobFilter = NO_FILTER): IJobSummary[] {
    return [...this._jobs.values()]
      .filter(j => matches(j, filter))
      .sort(newestFirst);
  }

  /** Every notebook a job came from, for the filter. */
  notebooks(): string[] {
    const names = new Set<string>();
    for (const job of this._jobs.values()) {
      if (job.notebook) {
        names.add(job.notebook);
      }
    }
    return [...names].sort();
  }

  /** Jobs not yet final: what the status bar counts as running. */
  running(): number {
    let n = 0;
    for (const job of this._jobs.values()) {
      if (!isFinal(job.status)) {
        n++;
      }
    }
    return n;
  }

  /** Succeeded jobs whose video the browser may play, newest first. */
  playable(filter: IJobFilter = NO_FILTER): IJobSummary[] {
    return this.list(filter).filter(j => videoSource(j, this.baseUrl) !== null);
  }

  isSelected(clientToken: string): boolean {
    return this._selected.includes(clientToken);
  }

  /**
   * Pick or unpick a take for compare. Returns false when the pick was refused:
   * the job cannot be played, or four are already picked.
   */
  toggleSelected(clientToken: string): boolean {
    const at = this._selected.indexOf(clientToken);
    if (at !== -1) {
      this._selected.splice(at, 1);
    } else {
      const job = this._jobs.get(clientToken);
      if (
        !job ||
        videoSource(job, this.baseUrl) === null ||
        this._selected.length >= COMPARE_MAX
      ) {
        return false;
      }
      this._selected.push(clientToken);
    }
    this._changed.emit();
    return true;
  }

  /** The picked takes in the order they were picked. */
  selected(): IJobSummary[] {
    return this._selected
      .map(t => this._jobs.get(t))
      .filter((j): j is IJobSummary => j !== undefined);
  }

  canCompare(): boolean {
    const n = this.selected().length;
    return n >= COMPARE_MIN && n <= COMPARE_MAX;
  }

  private _put(job: IJobSummary): void {
    this._jobs.set(
      job.clientToken,
      mergeJob(this._jobs.get(job.clientToken) ?? null, job)
    );
  }

  private readonly _jobs = new Map<string, IJobSummary>();
  private _selected: string[] = [];
  private _spend: ISpend | null = null;
  private readonly _changed = new Signal<this, void>(this);
}
