/** How numbers and times read in the card, the panel and the status bar. */
import type { IJobSummary } from './types';

/** `00:07`, `12:05`, `1:02:03`: a clock, because it ticks; as the kernel's card writes it. */
export function formatElapsed(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const mm = String(Math.floor((total % 3600) / 60)).padStart(2, '0');
  const ss = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** `just now`, `42 s ago`, `5 min ago`, `3 h ago`, `2 d ago`. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 5) {
    return 'just now';
  }
  if (s < 60) {
    return `${s} s ago`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ago`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ago`;
  }
  return `${Math.floor(s / 86400)} d ago`;
}

/** Cents, except for sub-cent amounts, which would otherwise read as free. */
export function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.01) {
    return `$${usd.toFixed(3)}`;
  }
  return `$${usd.toFixed(2)}`;
}

/**
 * `seedance-2.0 · 5 s · 720p · 16:9` (the kernel's card's order), skipping what the
 * job left to the defaults.
 */
export function formatParams(
  job: Pick<IJobSummary, 'model' | 'duration' | 'aspectRatio' | 'resolution'>
): string {
  const parts = [job.model];
  if (job.duration !== null) {
    parts.push(`${job.duration} s`);
  }
  if (job.resolution) {
    parts.push(job.resolution);
  }
  if (job.aspectRatio) {
    parts.push(job.aspectRatio);
  }
  return parts.join(' · ');
}

/**
 * What went wrong with a job, in one line: the service's error, or why its paid
 * video could not be saved (the last chance before its link expires); else null.
 */
export function formatProblem(
  job: Pick<IJobSummary, 'error' | 'status' | 'localPath' | 'saveError'>
): string | null {
  if (job.error) {
    return `${job.error.message} (${job.error.code})`;
  }
  if (job.status === 'succeeded' && !job.localPath && job.saveError) {
    return job.saveError;
  }
  return null;
}
