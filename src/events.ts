/**
 * The server's event stream, read with fetch (EventSource cannot send Jupyter's
 * token header), reconnected with exponential backoff. One per application:
 * cards, the panel and the status bar all listen to the same stream.
 */
import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';

import { SseParser, type ISseEvent } from './sse';
import type { IJobSummary, ISpend } from './types';

/** `open` is emitted on every (re)connection: listeners re-fetch what they may have missed. */
export type ConnectionState = 'connecting' | 'open' | 'waiting' | 'stopped';

export interface IBackoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of the delay randomised either way, so tabs do not reconnect in step. */
  jitter: number;
}

export const DEFAULT_BACKOFF: IBackoff = {
  initialMs: 1000,
  maxMs: 30000,
  factor: 2,
  jitter: 0.2
};

/** The wait before reconnect number `failures` (0 after a connection that had opened). */
export function backoffDelay(
  failures: number,
  backoff: IBackoff = DEFAULT_BACKOFF,
  random: () => number = Math.random
): number {
  const base = Math.min(
    backoff.maxMs,
    backoff.initialMs * backoff.factor ** failures
  );
  const spread = 1 - backoff.jitter + 2 * backoff.jitter * random();
  return Math.round(Math.min(backoff.maxMs, base * spread));
}

export interface IEventStreamOptions {
  open: (signal: AbortSignal) => Promise<Response>;
  backoff?: IBackoff;
  /** No bytes at all (the server sends keepalives) for this long: the connection is dead. */
  idleTimeoutMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A call, not a property read: TypeScript would keep `signal.aborted` narrowed across awaits. */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

export class EventStream implements IDisposable {
  constructor(options: IEventStreamOptions) {
    this._open = options.open;
    this._backoff = options.backoff ?? DEFAULT_BACKOFF;
    this._idleTimeoutMs = options.idleTimeoutMs ?? 60000;
    this._sleep = options.sleep ?? sleep;
    this._random = options.random ?? Math.random;
  }

  get jobChanged(): ISignal<this, IJobSummary> {
    return this._jobChanged;
  }

  get spendChanged(): ISignal<this, ISpend> {
    return this._spendChanged;
  }

  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** The last reason the stream dropped, for the UI to explain a `waiting` state. */
  get lastError(): Error | null {
    return this._lastError;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  start(): void {
    if (this._controller || this._isDisposed) {
      return;
    }
    const controller = new AbortController();
    this._controller = controller;
    void this._run(controller.signal).finally(() => {
      this._setState('stopped');
    });
  }

  stop(): void {
    this._controller?.abort();
    this._controller = null;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this.stop();
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private async _run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!aborted(signal)) {
      this._setState('connecting');
      let opened = false;
      try {
        opened = await this._readOnce(signal, () => {
          opened = true;
        });
        this._lastError = null;
      } catch (error) {
        this._lastError =
          error instanceof Error ? error : new Error(String(error));
      }
      if (aborted(signal)) {
        break;
      }
      failures = opened ? 0 : failures + 1;
      const advised = this._parser.retryMs ?? 0;
      const delay = Math.max(
        advised,
        backoffDelay(Math.max(0, failures - 1), this._backoff, this._random)
      );
      this._setState('waiting');
      await this._sleep(delay, signal);
    }
  }

  /** Read one connection to its end; resolves true if it had opened. */
  private async _readOnce(
    outer: AbortSignal,
    onOpen: () => void
  ): Promise<boolean> {
    const inner = new AbortController();
    const abort = (): void => {
      inner.abort();
    };
    outer.addEventListener('abort', abort, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(abort, this._idleTimeoutMs);
    };
    try {
      const response = await this._open(inner.signal);
      if (!response.body) {
        throw new Error('The event stream has no body');
      }
      onOpen();
      this._parser.reset();
      this._setState('open');
      const reader = response.body.getReader();
      // A fetch body usually errors on abort by itself; a stream handed in need not.
      const cancel = (): void => {
        reader.cancel().catch(() => undefined);
      };
      inner.signal.addEventListener('abort', cancel, { once: true });
      const decoder = new TextDecoder();
      touch();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            break;
          }
          touch();
          for (const event of this._parser.feed(
            decoder.decode(value, { stream: true })
          )) {
            this._dispatch(event);
          }
        }
      } finally {
        inner.signal.removeEventListener('abort', cancel);
        cancel();
      }
      return true;
    } finally {
      clearTimeout(idle);
      outer.removeEventListener('abort', abort);
    }
  }

  private _dispatch(event: ISseEvent): void {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      console.warn('seedance: ignoring an event that is not JSON', event);
      return;
    }
    if (event.event === 'job') {
      this._jobChanged.emit(data as IJobSummary);
    } else if (event.event === 'spend') {
      this._spendChanged.emit(data as ISpend);
    }
  }

  private _setState(state: ConnectionState): void {
    if (this._state !== state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private readonly _open: (signal: AbortSignal) => Promise<Response>;
  private readonly _backoff: IBackoff;
  private readonly _idleTimeoutMs: number;
  private readonly _sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly _random: () => number;
  private readonly _parser = new SseParser();
  private _controller: AbortController | null = null;
  private _state: ConnectionState = 'stopped';
  private _lastError: Error | null = null;
  private _isDisposed = false;
  private readonly _jobChanged = new Signal<this, IJobSummary>(this);
  private readonly _spendChanged = new Signal<this, ISpend>(this);
  private readonly _stateChanged = new Signal<this, ConnectionState>(this);
}
