/**
 * The renderer of the form's job list: one lab card per job, newest first, the
 * same card a `%%seedance` cell shows, so a form job never gets a second,
 * differently styled card. Each card follows its job by itself (see card.ts);
 * an update of the list only adds, reorders or drops cards.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Panel } from '@lumino/widgets';

import { JobCard } from './card';
import { listedJobs } from './job-list-data';
import type { ISeedanceServices } from './services';
import { JOB_MIME_TYPE, JOBS_MIME_TYPE, type IJobSummary } from './types';

export class JobListCards extends Panel implements IRenderMime.IRenderer {
  constructor(private readonly _services: ISeedanceServices) {
    super();
    this.addClass('seedance-lab-card-list');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const jobs = listedJobs(model.data[JOBS_MIME_TYPE]);
    const kept = new Map<string, JobCard>();
    const rendered = jobs.map((job, index) => {
      const card =
        this._cards.get(job.clientToken) ?? new JobCard(this._services);
      kept.set(job.clientToken, card);
      this.insertWidget(index, card);
      return card.renderModel(cardModel(model, job));
    });
    for (const [token, card] of this._cards) {
      if (!kept.has(token)) {
        card.dispose();
      }
    }
    this._cards = kept;
    await Promise.all(rendered);
  }

  private _cards = new Map<string, JobCard>();
}

/** One job of the list as the output a `%%seedance` cell would have. */
function cardModel(
  list: IRenderMime.IMimeModel,
  job: IJobSummary
): IRenderMime.IMimeModel {
  return {
    trusted: list.trusted,
    data: { [JOB_MIME_TYPE]: job } as unknown as IRenderMime.IMimeModel['data'],
    metadata: {},
    setData: () => undefined
  };
}
