/**
 * What a job card shows, as plain data: the widget (card.ts) only puts this on
 * the page, so every rule here is testable without a DOM.
 */
import { isRequestId } from './client';
import {
  formatElapsed,
  formatParams,
  formatProblem,
  formatUsd
} from './format';
import { posterSource, safeRemoteUrl, videoSource } from './media';
import { MSG } from './messages';
import {
  isCancellable,
  isFinal,
  statusRank,
  type IJobSummary,
  type Status
} from './types';

export interface ICardView {
  prompt: string;
  params: string;
  status: Status;
  statusLabel: string;
  /** Empty when a final job never recorded when it finished. */
  elapsed: string;
  /** The elapsed clock still runs: re-render every second. */
  ticking: boolean;
  /** An indeterminate bar: the service reports no percentage, so none is shown. */
  showProgress: boolean;
  showCancel: boolean;
  /** What was estimated or charged (and refunded), as JobSummary words it. */
  cost: string;
  /** Shown small and copyable; null before the service answered the create. */
  requestId: string | null;
  isEmulator: boolean;
  error: string | null;
  notice: string | null;
  video: { src: string; label: string } | null;
  poster: string | null;
  /** Said when a job succeeded but the browser has nothing it may play yet. */
  videoNote: string | null;
  /** An untrusted output's remote video, loaded only when the user asks. */
  remote: { url: string; host: string } | null;
  /** The reference media: a small inline thumbnail for images made here, else kind and name. */
  references: IReferenceView[];
}

/** What the card knows beyond the job's fields. */
export interface ICardContext {
  /** The server has answered for this job (a GET, an event, a cancel): Cancel can reach it. */
  known: boolean;
  /** The remote video URL an untrusted output named, held back (see `holdBackMedia`). */
  heldBack: string | null;
}

const KNOWN: ICardContext = { known: true, heldBack: null };

/**
 * An untrusted output's summary, minus what would make the browser fetch a
 * remote URL on opening (a shared notebook could track who opens it): the
 * output URL is held back until the user asks, or replaced by the server's own.
 */
export function holdBackMedia(saved: IJobSummary): {
  job: IJobSummary;
  heldBack: string | null;
} {
  return {
    job: { ...saved, outputUrl: null },
    heldBack: safeRemoteUrl(saved.outputUrl)
  };
}

export interface IReferenceView {
  label: string;
  /** A `data:image/jpeg;base64,` thumbnail, never a remote URL. */
  thumbnail: string | null;
}

const THUMBNAIL = /^data:image\/jpeg;base64,[A-Za-z0-9+/=]+$/;

/** What the card shows of each reference (the short-lived published URLs are never shown). */
export function referenceViews(
  job: Pick<IJobSummary, 'mediaRefs'>
): IReferenceView[] {
  return (job.mediaRefs ?? []).map(ref => ({
    label: ref.kind ? `${ref.kind} ${ref.name}` : ref.name,
    thumbnail:
      typeof ref.thumbnail === 'string' && THUMBNAIL.test(ref.thumbnail)
        ? ref.thumbnail
        : null
  }));
}

const IN_FLIGHT: ReadonlySet<string> = new Set<Status>([
  'pending',
  'queued',
  'processing',
  'cancelling'
]);

/** Seconds since `createdAt`: to now while running, to `finishedAt` once final. */
export function elapsedSeconds(
  job: Pick<IJobSummary, 'status' | 'createdAt' | 'finishedAt'>,
  nowMs: number
): number | null {
  if (isFinal(job.status)) {
    return job.finishedAt === null ? null : job.finishedAt - job.createdAt;
  }
  return nowMs / 1000 - job.createdAt;
}

export function cardView(
  job: IJobSummary,
  nowMs: number,
  baseUrl: string,
  context: ICardContext = KNOWN
): ICardView {
  const elapsed = elapsedSeconds(job, nowMs);
  const src = videoSource(job, baseUrl);
  const poster = posterSource(job);
  const held =
    src === null && job.status === 'succeeded' ? context.heldBack : null;
  const remote = held ? { url: held, host: new URL(held).host } : null;
  return {
    prompt: job.prompt,
    params: formatParams(job),
    status: job.status,
    statusLabel: job.statusLabel || job.status.replace(/_/g, ' '),
    elapsed: elapsed === null ? '' : formatElapsed(elapsed),
    ticking: !isFinal(job.status),
    showProgress: IN_FLIGHT.has(job.status),
    showCancel:
      context.known && job.requestId !== null && isCancellable(job.status),
    cost: chargeLabel(job),
    requestId: job.requestId,
    isEmulator: job.isEmulator,
    error: formatProblem(job),
    notice: job.notice,
    video: src ? { src, label: MSG.videoLabel(job.prompt) } : null,
    poster,
    videoNote: remote
      ? MSG.remoteHeld(remote.host)
      : job.status === 'succeeded' && !src
        ? MSG.videoNotHere
        : null,
    remote,
    references: referenceViews(job)
  };
}

/** The server's wording of the charge; an output saved before it existed shows the estimate. */
export function chargeLabel(
  job: Pick<IJobSummary, 'chargeLabel' | 'estimatedUsd'>
): string {
  return job.chargeLabel ?? MSG.estimate(formatUsd(job.estimatedUsd));
}

/**
 * The kernel code that cancels `requestId` with the kernel's own key and service:
 * only for a plain request id (`isRequestId`: nothing IPython would expand).
 */
export function kernelCancelCode(requestId: string): string | null {
  return isRequestId(requestId) ? `%seedance cancel ${requestId}` : null;
}

/**
 * What the card says after a Cancel that did not go through: nothing only when
 * the job is over now (it finished meanwhile, and its state says how); else why,
 * and how to cancel it from the notebook. Never a silent no-op.
 */
export function cancelFailure(
  error: unknown,
  now: Pick<IJobSummary, 'status'> | null,
  requestId: string
): string | null {
  if (now && isFinal(now.status)) {
    return null;
  }
  const why = error instanceof Error ? error.message : String(error);
  return `${MSG.cancelFailed(why)} ${MSG.cancelInKernel(requestId)}`;
}

/** Fields that are only ever filled in: a later snapshot without them must not erase them. */
const STICKY = [
  'requestId',
  'creditsCharged',
  'chargedUsd',
  'finishedAt',
  'localPath',
  'outputUrl',
  'posterDataUri'
] as const;

/**
 * Combine what we had with a snapshot that may be older (a GET answer overtaken
 * by an event): a status never moves backwards and filled-in fields stay filled.
 */
export function mergeJob(
  current: IJobSummary | null,
  incoming: IJobSummary
): IJobSummary {
  if (!current) {
    return incoming;
  }
  if (statusRank(incoming.status) < statusRank(current.status)) {
    return current;
  }
  const merged: IJobSummary = { ...incoming };
  for (const field of STICKY) {
    if (merged[field] === null && current[field] !== null) {
      (merged as unknown as Record<string, unknown>)[field] = current[field];
    }
  }
  return merged;
}

/** True when `update` is about the same job as `job` (by request id or client token). */
export function sameJob(
  job: Pick<IJobSummary, 'requestId' | 'clientToken'>,
  update: Pick<IJobSummary, 'requestId' | 'clientToken'>
): boolean {
  if (job.requestId !== null && update.requestId !== null) {
    return job.requestId === update.requestId;
  }
  return job.clientToken === update.clientToken;
}
