/** The rendermime factory for `application/vnd.seedance.job+json`. */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { JobCard } from './card';
import { JobListCards } from './job-list-card';
import type { ISeedanceServices } from './services';
import { JOB_MIME_TYPE, JOBS_MIME_TYPE } from './types';

/**
 * Below ipywidgets' widget view (-10) and text/html (50): in a live session the
 * card wins over the kernel's widget, and in a reopened notebook over the saved HTML.
 */
export const RENDERER_RANK = -20;

export function jobRendererFactory(
  services: ISeedanceServices
): IRenderMime.IRendererFactory {
  return {
    // Safe: the card puts the job's fields on the page as text, never as HTML.
    safe: true,
    mimeTypes: [JOB_MIME_TYPE],
    defaultRank: RENDERER_RANK,
    createRenderer: () => new JobCard(services)
  };
}

/** The form's job list: the same cards, one per job, at the same rank. */
export function jobListRendererFactory(
  services: ISeedanceServices
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [JOBS_MIME_TYPE],
    defaultRank: RENDERER_RANK,
    createRenderer: () => new JobListCards(services)
  };
}
