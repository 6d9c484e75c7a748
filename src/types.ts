/**
 * The server extension's REST contract, mirrored from `seedance_jupyter/status.py`
 * and the server's JobSummary. Field names are the wire names (camelCase).
 */

/** The MIME type the kernel puts in a card's display data. */
export const JOB_MIME_TYPE = 'application/vnd.seedance.job+json';

/** The MIME type of the form's job list: `{ jobs: IJobSummary[] }`, newest first. */
export const JOBS_MIME_TYPE = 'application/vnd.seedance.jobs+json';

export type Status =
  | 'pending'
  | 'submission_uncertain'
  | 'queued'
  | 'processing'
  | 'cancelling'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'rejected';

export const STATUSES: readonly Status[] = [
  'pending',
  'submission_uncertain',
  'queued',
  'processing',
  'cancelling',
  'succeeded',
  'failed',
  'cancelled',
  'rejected'
];

const FINAL: ReadonlySet<string> = new Set<Status>([
  'succeeded',
  'failed',
  'cancelled',
  'rejected'
]);
const CANCELLABLE: ReadonlySet<string> = new Set<Status>([
  'queued',
  'processing'
]);

/**
 * The order of a job's life, as in `status.py`'s RANK: a status only moves forward,
 * so an older snapshot arriving late never undoes a newer one.
 */
const RANK: Readonly<Record<Status, number>> = {
  pending: 0,
  submission_uncertain: 1,
  queued: 2,
  processing: 3,
  cancelling: 3,
  succeeded: 4,
  failed: 4,
  cancelled: 4,
  rejected: 4
};

/** True once nothing about the job can change any more. */
export function isFinal(status: string): boolean {
  return FINAL.has(status);
}

/** True when the service lets a client cancel a job in this status. */
export function isCancellable(status: string): boolean {
  return CANCELLABLE.has(status);
}

/** Statuses the service may add later rank with `processing` (still in flight). */
export function statusRank(status: string): number {
  return (
    (RANK as Record<string, number | undefined>)[status] ?? RANK.processing
  );
}

export interface IJobError {
  code: string;
  message: string;
}

export interface IJobSummary {
  requestId: string | null;
  clientToken: string;
  status: Status;
  statusLabel: string;
  model: string;
  prompt: string;
  duration: number | null;
  aspectRatio: string | null;
  resolution: string | null;
  mediaUrls: string[];
  estimatedUsd: number;
  creditsCharged: number | null;
  /**
   * What the job cost as the service reported it, worded once by the server
   * (JobSummary.charge_label): the same on every card, the panel and the tables.
   * Absent in outputs saved by versions before it existed.
   */
  chargeLabel?: string;
  /** The charge in USD at the server's credits-per-USD rate; absent in older saves. */
  chargedUsd?: number | null;
  backend: string;
  isEmulator: boolean;
  /** The notebook (or folder) the job came from, relative to the server root. */
  notebook: string | null;
  /** False when the server found no such notebook any more; absent when unknown. */
  notebookExists?: boolean | null;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds; sent by the server beside the fixed contract, so optional here. */
  submittedAt?: number | null;
  /** Unix seconds. */
  finishedAt: number | null;
  /** Relative to the Jupyter server root, servable through `files/`. */
  localPath: string | null;
  outputUrl: string | null;
  posterDataUri: string | null;
  /** Per reference medium, in the order sent (absent from older servers). */
  mediaRefs?: IMediaRef[];
  error: IJobError | null;
  notice: string | null;
  /** Who submitted it (`JUPYTERHUB_USER`, else the OS user); optional beside the contract. */
  user?: string | null;
  /**
   * Why a succeeded job's video is not saved yet (its link expired, the answer was
   * not a video...); null once it is saved. Optional: older servers do not send it.
   */
  saveError?: string | null;
}

/** A reference medium as the ledger keeps it (no bytes), mirrors `JobSummary.media_refs`. */
export interface IMediaRef {
  /** How the user named it: a path, `PIL image 64x36`, `last-frame:req_...`, a URL. */
  name: string;
  kind: 'image' | 'video' | 'audio' | null;
  /** Content hash of published media; null for a URL the user gave. */
  sha256: string | null;
  /** Where it was published: `s3://bucket/prefix/`, the server's media route, `loopback`, `url`. */
  where: string;
  /** A small inline JPEG of an image, when made on this machine. */
  thumbnail: string | null;
}

export interface IJobPage {
  jobs: IJobSummary[];
  /** Cursor to pass as `before` for the next (older) page. */
  next: string | null;
}

export interface IModelSpend {
  model: string;
  jobs: number;
  usd: number;
  credits: number;
}

export interface IUserSpend {
  user: string;
  monthUsd: number;
}

/** The team gateway's totals (mirrors jobs/team.py TeamSpend.to_json). */
export interface ITeamSpend {
  userTodayUsd: number;
  userMonthUsd: number;
  teamTodayUsd: number;
  teamMonthUsd: number;
}

export interface ISpend {
  /** Whose spend this is (the server's user); optional beside older servers. */
  user?: string;
  /** With `?team=1`: each user's spend this month on a shared ledger. */
  byUser?: IUserSpend[];
  todayUsd: number;
  monthUsd: number;
  budgetUsd: number | null;
  dailyBudgetUsd: number | null;
  byModel: IModelSpend[];
  /** With the team gateway: its totals; null when it did not answer; absent without one. */
  gateway?: ITeamSpend | null;
}
