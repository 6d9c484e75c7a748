import { ApiError, SeedanceClient, type Fetcher } from '../client';
import { job, jsonResponse } from './fixtures';

function recorder(respond: (path: string, init?: RequestInit) => Response): {
  fetcher: Fetcher;
  calls: { path: string; init?: RequestInit }[];
} {
  const calls: { path: string; init?: RequestInit }[] = [];
  const fetcher: Fetcher = (path, init) => {
    calls.push({ path, init });
    return Promise.resolve(respond(path, init));
  };
  return { fetcher, calls };
}

describe('SeedanceClient', () => {
  it('lists with only the filters that are set', async () => {
    const { fetcher, calls } = recorder(() =>
      jsonResponse({ jobs: [job()], next: null })
    );
    const page = await new SeedanceClient(fetcher).listJobs({
      status: 'queued',
      notebook: 'a b.ipynb',
      limit: 20,
      before: undefined
    });
    expect(page.jobs).toHaveLength(1);
    expect(calls[0].path).toBe(
      'seedance/api/jobs?status=queued&notebook=a+b.ipynb&limit=20'
    );
  });

  it("asks for the team's jobs and spend only when told to", async () => {
    const { fetcher, calls } = recorder(path =>
      jsonResponse(
        path.includes('/spend')
          ? { todayUsd: 0, monthUsd: 0, byModel: [] }
          : { jobs: [], next: null }
      )
    );
    const client = new SeedanceClient(fetcher);
    await client.listJobs({ limit: 5, team: true });
    await client.listJobs({ limit: 5, team: false });
    await client.getSpend(true);
    await client.getSpend();
    expect(calls.map(c => c.path)).toEqual([
      'seedance/api/jobs?limit=5&team=1',
      'seedance/api/jobs?limit=5',
      'seedance/api/spend?team=1',
      'seedance/api/spend'
    ]);
  });

  it('gets and cancels by an encoded request id', async () => {
    const { fetcher, calls } = recorder(() =>
      jsonResponse(job({ status: 'cancelled' }))
    );
    const client = new SeedanceClient(fetcher);
    await client.getJob('req:1');
    const cancelled = await client.cancelJob('req_2');
    expect(calls.map(c => c.path)).toEqual([
      'seedance/api/jobs/req%3A1',
      'seedance/api/jobs/req_2/cancel'
    ]);
    expect(calls[1].init?.method).toBe('POST');
    expect(cancelled.status).toBe('cancelled');
  });

  it('turns the error envelope into an ApiError with its code', async () => {
    const { fetcher } = recorder(() =>
      jsonResponse(
        { error: { code: 'not_found', message: 'No job req_9' } },
        404
      )
    );
    const error = await new SeedanceClient(fetcher)
      .getJob('req_9')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      code: 'not_found',
      message: 'No job req_9',
      httpStatus: 404
    });
  });

  it.each([
    '..',
    '.',
    'req/1',
    'req 1',
    '',
    '../../api/contents',
    'a'.repeat(201)
  ])(
    'never sends %j as a request id, and treats it as an unknown job',
    async requestId => {
      const { fetcher, calls } = recorder(() => jsonResponse(job()));
      const client = new SeedanceClient(fetcher);
      for (const call of [
        client.getJob(requestId),
        client.cancelJob(requestId)
      ]) {
        await expect(call).rejects.toMatchObject({
          code: 'not_found',
          httpStatus: 404
        });
      }
      expect(calls).toHaveLength(0);
    }
  );

  it('reads an HTML 404 as an unknown job, not as a server that did not answer', async () => {
    const { fetcher } = recorder(
      () =>
        new Response(
          '<!DOCTYPE html><html><body>404 : Not Found</body></html>',
          {
            status: 404,
            statusText: 'Not Found',
            headers: { 'Content-Type': 'text/html' }
          }
        )
    );
    await expect(
      new SeedanceClient(fetcher).getJob('req_1')
    ).rejects.toMatchObject({
      code: 'not_found',
      message: 'Not Found',
      httpStatus: 404
    });
  });

  it('keeps the status and text when the error is not JSON', async () => {
    const { fetcher } = recorder(
      () => new Response('Bad gateway', { status: 502 })
    );
    await expect(new SeedanceClient(fetcher).getSpend()).rejects.toMatchObject({
      code: 'http_502',
      message: 'Bad gateway',
      httpStatus: 502
    });
  });

  it('reports a 409 on cancel of a final job', async () => {
    const { fetcher } = recorder(() =>
      jsonResponse(
        { error: { code: 'conflict', message: 'already succeeded' } },
        409
      )
    );
    await expect(
      new SeedanceClient(fetcher).cancelJob('req_1')
    ).rejects.toMatchObject({
      code: 'conflict',
      httpStatus: 409
    });
  });

  it('finds a job by client token across pages, following the cursor', async () => {
    const pages: Record<string, unknown> = {
      '': { jobs: [job({ clientToken: 'a' })], next: 'c1' },
      c1: { jobs: [job({ clientToken: 'b', requestId: 'req_b' })], next: null }
    };
    const { fetcher, calls } = recorder(path => {
      const before =
        new URLSearchParams(path.split('?')[1]).get('before') ?? '';
      return jsonResponse(pages[before]);
    });
    const found = await new SeedanceClient(fetcher).findByClientToken('b');
    expect(found?.requestId).toBe('req_b');
    expect(calls).toHaveLength(2);
    expect(
      await new SeedanceClient(fetcher).findByClientToken('zzz')
    ).toBeNull();
  });

  it('opens the event stream asking for text/event-stream', async () => {
    const { fetcher, calls } = recorder(
      () => new Response('', { status: 200 })
    );
    await new SeedanceClient(fetcher).openEvents(new AbortController().signal);
    expect(calls[0].path).toBe('seedance/api/events');
    expect(calls[0].init?.headers).toEqual({ Accept: 'text/event-stream' });
  });
});
