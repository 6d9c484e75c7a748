import { ApiError } from '../client';
import { backoffDelay, EventStream, type ConnectionState } from '../events';
import type { IJobSummary, ISpend } from '../types';
import { job, streamResponse, until } from './fixtures';

type Step = Response | Error | 'hang';

/** An `open` that plays the scripted steps, then hangs until aborted. */
function scripted(steps: Step[]): {
  open: (signal: AbortSignal) => Promise<Response>;
  opened: () => number;
} {
  let count = 0;
  const open = (signal: AbortSignal): Promise<Response> => {
    const step = steps[count++] ?? 'hang';
    if (step === 'hang') {
      return new Promise((_, reject) => {
        signal.addEventListener('abort', () => {
          reject(new Error('aborted'));
        });
      });
    }
    return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
  };
  return { open, opened: () => count };
}

/** A stream that does not wait between attempts but records each wait it was asked for. */
function recordingDelays(open: (signal: AbortSignal) => Promise<Response>): {
  stream: EventStream;
  delays: number[];
} {
  const delays: number[] = [];
  const stream = new EventStream({
    open,
    backoff: noJitter,
    sleep: ms => {
      delays.push(ms);
      return Promise.resolve();
    }
  });
  return { stream, delays };
}

function collect(stream: EventStream): {
  jobs: IJobSummary[];
  spends: ISpend[];
  states: ConnectionState[];
} {
  const out = {
    jobs: [] as IJobSummary[],
    spends: [] as ISpend[],
    states: [] as ConnectionState[]
  };
  stream.jobChanged.connect((_, j) => out.jobs.push(j));
  stream.spendChanged.connect((_, s) => out.spends.push(s));
  stream.stateChanged.connect((_, s) => out.states.push(s));
  return out;
}

const noJitter = { initialMs: 1000, maxMs: 8000, factor: 2, jitter: 0 };

describe('backoffDelay', () => {
  it('doubles up to the cap', () => {
    expect([0, 1, 2, 3, 4, 10].map(n => backoffDelay(n, noJitter))).toEqual([
      1000, 2000, 4000, 8000, 8000, 8000
    ]);
  });

  it('spreads by the jitter fraction and never passes the cap', () => {
    const b = { ...noJitter, jitter: 0.2 };
    expect(backoffDelay(0, b, () => 0)).toBe(800);
    expect(backoffDelay(0, b, () => 1)).toBe(1200);
    expect(backoffDelay(5, b, () => 1)).toBe(8000);
  });
});

describe('EventStream', () => {
  it('dispatches job and spend events split across byte chunks, multi-byte text included', async () => {
    const snapshot = job({ prompt: 'café au lait 🎬', status: 'succeeded' });
    const spend: ISpend = {
      todayUsd: 1.5,
      monthUsd: 3,
      budgetUsd: 10,
      dailyBudgetUsd: null,
      byModel: []
    };
    const bytes = new TextEncoder().encode(
      `: keepalive\n\nevent: job\ndata: ${JSON.stringify(snapshot)}\n\nevent: spend\ndata: ${JSON.stringify(spend)}\n\n`
    );
    // Cut inside the emoji's four UTF-8 bytes, and everywhere else in 7-byte steps.
    const emoji = bytes.findIndex(b => b === 0xf0);
    const cuts = [emoji + 2, ...Array.from({ length: 60 }, (_, i) => i * 7)]
      .filter(c => c > 0 && c < bytes.length)
      .sort((a, b) => a - b);
    const chunks = cuts.map((c, i) =>
      bytes.slice(i === 0 ? 0 : cuts[i - 1], c)
    );
    chunks.push(bytes.slice(cuts[cuts.length - 1]));
    const { open } = scripted([streamResponse(chunks, { hold: true })]);
    const stream = new EventStream({ open, sleep: () => Promise.resolve() });
    const seen = collect(stream);
    stream.start();
    await until(() => seen.spends.length === 1);
    expect(seen.jobs).toEqual([snapshot]);
    expect(seen.spends).toEqual([spend]);
    stream.dispose();
  });

  it('reconnects after the stream ends and says open each time', async () => {
    const first = streamResponse(['event: job\ndata: {"requestId":"a"}\n\n']);
    const second = streamResponse(['event: job\ndata: {"requestId":"b"}\n\n'], {
      hold: true
    });
    const { open, opened } = scripted([first, second]);
    const { stream, delays } = recordingDelays(open);
    const seen = collect(stream);
    stream.start();
    await until(() => seen.jobs.length === 2);
    expect(opened()).toBe(2);
    expect(seen.jobs.map(j => j.requestId)).toEqual(['a', 'b']);
    expect(seen.states).toEqual([
      'connecting',
      'open',
      'waiting',
      'connecting',
      'open'
    ]);
    // A connection that had opened is retried at the first step.
    expect(delays).toEqual([1000]);
    stream.stop();
    await until(() => stream.state === 'stopped');
  });

  it('backs off longer after each failed attempt and resets after a success', async () => {
    const { open } = scripted([
      new ApiError('http_404', 'not found', 404),
      new Error('network down'),
      new Error('network down'),
      streamResponse([': keepalive\n\n']),
      new Error('network down')
    ]);
    const { stream, delays } = recordingDelays(open);
    stream.start();
    await until(() => delays.length === 5);
    expect(delays).toEqual([1000, 2000, 4000, 1000, 1000]);
    expect(stream.lastError?.message).toBe('network down');
    stream.dispose();
  });

  it('honours the server retry advice when it is longer', async () => {
    const { open } = scripted([streamResponse(['retry: 5000\n\n'])]);
    const { stream, delays } = recordingDelays(open);
    stream.start();
    await until(() => delays.length === 1);
    expect(delays).toEqual([5000]);
    stream.dispose();
  });

  it('drops a connection that goes silent and opens a new one', async () => {
    const { open, opened } = scripted([
      streamResponse([': keepalive\n\n'], { hold: true })
    ]);
    const stream = new EventStream({
      open,
      idleTimeoutMs: 20,
      sleep: () => Promise.resolve()
    });
    stream.start();
    await until(() => opened() === 2);
    stream.dispose();
  });

  it('ignores events that are not JSON and keeps reading', async () => {
    const warn = jest
      .spyOn(console, 'warn')
      .mockImplementation(() => undefined);
    const { open } = scripted([
      streamResponse(
        ['event: job\ndata: {oops\n\nevent: job\ndata: {"requestId":"ok"}\n\n'],
        {
          hold: true
        }
      )
    ]);
    const stream = new EventStream({ open, sleep: () => Promise.resolve() });
    const seen = collect(stream);
    stream.start();
    await until(() => seen.jobs.length === 1);
    expect(seen.jobs[0].requestId).toBe('ok');
    expect(warn).toHaveBeenCalledTimes(1);
    stream.dispose();
    warn.mockRestore();
  });

  it('stops for good: no reconnect after stop()', async () => {
    const { open, opened } = scripted([]);
    const stream = new EventStream({ open, sleep: () => Promise.resolve() });
    stream.start();
    await until(() => opened() === 1);
    stream.stop();
    await until(() => stream.state === 'stopped');
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(opened()).toBe(1);
  });
});
