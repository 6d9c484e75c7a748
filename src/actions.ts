/** What a person can do to a job from the panel; the panel implements it, the views call it. */
import type { INotebookLink } from './panel-model';
import type { IJobSummary } from './types';

export interface IJobActions {
  cancel(job: IJobSummary): Promise<void>;
  play(job: IJobSummary): void;
  /** Open the notebook, or show its folder in the file browser. */
  openOrigin(link: INotebookLink): void;
  /** False when the pick was refused (not playable, or four already picked). */
  toggleSelected(job: IJobSummary): boolean;
}
