import type { IJobSummary } from '../types';

/** A job as the server sends it; override what a test is about. */
export function job(overrides: Partial<IJobSummary> = {}): IJobSummary {
  return {
    requestId: 'req_1',
    clientToken: 'tok_1',
    status: 'processing',
    statusLabel: 'processing',
    model: 'seedance-2.0',
    prompt: 'A paper boat',
    duration: 5,
    aspectRatio: '16:9',
    resolution: '720p',
    mediaUrls: [],
    estimatedUsd: 0.5,
    creditsCharged: 40,
    backend: 'emulator',
    isEmulator: true,
    notebook: 'demo.ipynb',
    createdAt: 1_700_000_000,
    finishedAt: null,
    localPath: null,
    outputUrl: null,
    posterDataUri: null,
    error: null,
    notice: null,
    ...overrides
  };
}

/** A Response whose body arrives in exactly these chunks (strings or raw bytes). */
export function streamResponse(
  chunks: (string | Uint8Array)[],
  options: { hold?: boolean } = {}
): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(
          typeof chunk === 'string' ? encoder.encode(chunk) : chunk
        );
      }
      if (!options.hold) {
        controller.close();
      }
    }
  });
  return new Response(body, {
    status: 200,
    headers: { 'Content-Type': 'text/event-stream' }
  });
}

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

/** Wait (500 turns of the timer queue at most) until `condition` holds, then assert it. */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) {
    await new Promise(resolve => setTimeout(resolve, 1));
  }
  expect(condition()).toBe(true);
}
