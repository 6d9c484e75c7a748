import { listedJobs } from '../job-list-data';
import { job } from './fixtures';

describe('listedJobs', () => {
  it("is the list output's jobs, in order", () => {
    const first = job({ clientToken: 'tok_2', prompt: 'newer' });
    const second = job({ clientToken: 'tok_1', prompt: 'older' });
    expect(listedJobs({ jobs: [first, second] })).toEqual([first, second]);
  });

  it('is empty for an empty list or anything that is not a list output', () => {
    expect(listedJobs({ jobs: [] })).toEqual([]);
    expect(listedJobs(null)).toEqual([]);
    expect(listedJobs({ jobs: 'nope' })).toEqual([]);
  });

  it('leaves out entries that cannot be a job', () => {
    const real = job();
    expect(listedJobs({ jobs: [real, null, 3, { prompt: 'x' }] })).toEqual([
      real
    ]);
  });
});
