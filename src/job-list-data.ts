/** The form's job list as data: which summaries a list output holds (DOM-free, for jest). */
import type { IJobSummary } from './types';

/** The entries of `{ jobs: [...] }` that can be cards, in order; anything else gives none. */
export function listedJobs(data: unknown): IJobSummary[] {
  const jobs = (data as { jobs?: unknown } | null)?.jobs;
  if (!Array.isArray(jobs)) {
    return [];
  }
  return jobs.filter(
    (job: unknown): job is IJobSummary =>
      typeof job === 'object' &&
      job !== null &&
      typeof (job as Partial<IJobSummary>).clientToken === 'string'
  );
}
