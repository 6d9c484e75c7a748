import { SeedanceClient, type Fetcher } from '../client';
import { EventStream } from '../events';
import { JobsFeed } from '../feed';
import { JobsModel } from '../panel-model';
import type { ISpend } from '../types';
import { job, jsonResponse, streamResponse, until } from './fixtures';

const spend: ISpend = {
  todayUsd: 1,
  monthUsd: 2,
  budgetUsd: null,
  dailyBudgetUsd: null,
  byModel: []
};

describe('JobsFeed', () => {
  it('loads the list and spend on connect, then applies events to the model', async () => {
    const paths: string[] = [];
    const fetcher: Fetcher = path => {
      paths.push(path);
      if (path.startsWith('seedance/api/events')) {
        const update = job({
          clientToken: 'a',
          status: 'succeeded',
          localPath: 'a.mp4'
        });
        return Promise.resolve(
          streamResponse([`event: job\ndata: ${JSON.stringify(update)}\n\n`], {
            hold: true
          })
        );
      }
      if (path.startsWith('seedance/api/spend')) {
        return Promise.resolve(jsonResponse(spend));
      }
      const before = new URLSearchParams(path.split('?')[1]).get('before');
      return Promise.resolve(
        jsonResponse(
          before === 'c1'
            ? { jobs: [job({ clientToken: 'old', createdAt: 1 })], next: null }
            : {
                jobs: [job({ clientToken: 'a', status: 'processing' })],
                next: 'c1'
              }
        )
      );
    };
    const client = new SeedanceClient(fetcher);
    const events = new EventStream({
      open: s => client.openEvents(s),
      sleep: () => Promise.resolve()
    });
    const model = new JobsModel('/');
    const feed = new JobsFeed({ client, events, baseUrl: '/' }, model);
    events.start();
    await until(
      () => model.spend !== null && model.get('a')?.status === 'succeeded'
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        'seedance/api/events',
        'seedance/api/jobs?limit=100',
        'seedance/api/spend'
      ])
    );
    expect(feed.hasOlder).toBe(true);
    await feed.loadOlder();
    expect(model.list().map(j => j.clientToken)).toEqual(['a', 'old']);
    expect(feed.hasOlder).toBe(false);
    events.dispose();
    feed.dispose();
  });

  it('keeps the error to show when the server does not answer', async () => {
    const fetcher: Fetcher = () =>
      Promise.resolve(new Response('Not Found', { status: 404 }));
    const client = new SeedanceClient(fetcher);
    const events = new EventStream({ open: s => client.openEvents(s) });
    const model = new JobsModel('/');
    const feed = new JobsFeed({ client, events, baseUrl: '/' }, model);
    await feed.refresh();
    expect(feed.lastError).toBe('Not Found');
    expect(model.size).toBe(0);
    events.dispose();
  });
});

describe('JobsFeed for the team', () => {
  const teamSpend: ISpend = {
    ...spend,
    monthUsd: 5,
    byUser: [
      { user: 'alice', monthUsd: 3 },
      { user: 'bob', monthUsd: 2 }
    ]
  };

  function teamServer(paths: string[]): Fetcher {
    return path => {
      paths.push(path);
      if (path.startsWith('seedance/api/events')) {
        return Promise.resolve(
          streamResponse([`event: spend\ndata: ${JSON.stringify(spend)}\n\n`], {
            hold: true
          })
        );
      }
      if (path.startsWith('seedance/api/spend')) {
        return Promise.resolve(
          jsonResponse(path.includes('team=1') ? teamSpend : spend)
        );
      }
      return Promise.resolve(
        jsonResponse({
          jobs: [job({ clientToken: 'b', user: 'bob' })],
          next: 'c1'
        })
      );
    };
  }

  it("asks for everyone's jobs and the team's spend, older pages too", async () => {
    const paths: string[] = [];
    const client = new SeedanceClient(teamServer(paths));
    const events = new EventStream({ open: s => client.openEvents(s) });
    const model = new JobsModel('/');
    const feed = new JobsFeed({ client, events, baseUrl: '/' }, model, true);
    await feed.refresh();
    await feed.loadOlder();
    expect(paths).toEqual([
      'seedance/api/jobs?limit=100&team=1',
      'seedance/api/spend?team=1',
      'seedance/api/jobs?limit=100&before=c1&team=1'
    ]);
    expect(model.get('b')?.user).toBe('bob');
    expect(model.spend?.byUser).toHaveLength(2);
    events.dispose();
    feed.dispose();
  });

  it("keeps the team's spend when the stream sends this user's", async () => {
    const paths: string[] = [];
    const client = new SeedanceClient(teamServer(paths));
    const events = new EventStream({
      open: s => client.openEvents(s),
      sleep: () => Promise.resolve()
    });
    const model = new JobsModel('/');
    const feed = new JobsFeed({ client, events, baseUrl: '/' }, model, true);
    events.start();
    await until(
      () =>
        paths.filter(p => p === 'seedance/api/spend?team=1').length >= 2 &&
        model.spend !== null
    );
    expect(model.spend?.monthUsd).toBe(5);
    expect(paths).not.toContain('seedance/api/spend');
    events.dispose();
    feed.dispose();
  });
});
