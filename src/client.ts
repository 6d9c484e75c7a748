/**
 * The server extension's REST API. All HTTP goes through one injected `Fetcher`
 * (in Lab: `ServerConnection.makeRequest`, see connection.ts; in tests: a fake),
 * and every non-2xx answer becomes an `ApiError` in one place.
 */
import { MSG } from './messages';
import type { IJobPage, IJobSummary, ISpend, Status } from './types';

/** Fetch a path relative to the server's base URL (no leading slash). */
export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>;

const API = 'seedance/api';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * What a request id may look like before it goes into a URL: letters, digits
 * and `_-.:~`, starting with a letter or digit (so never `.` or `..`, which a
 * browser would resolve as a path step), at most 200 characters.
 */
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9_.:~-]{0,199}$/;

export function isRequestId(value: string): boolean {
  return REQUEST_ID.test(value);
}

/**
 * Build the error from the server's envelope `{"error": {"code", "message"}}`.
 * A 404 without it (Jupyter's HTML page for a path it does not route) is
 * `not_found` too: the server answered, and it knows no such job.
 */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let code = response.status === 404 ? 'not_found' : `http_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  if (!/^\s*</.test(text) && text.trim()) {
    message = text.trim();
  }
  try {
    const body = JSON.parse(text) as unknown;
    const error = (body as { error?: unknown } | null)?.error;
    if (error && typeof error === 'object') {
      const { code: c, message: m } = error as {
        code?: unknown;
        message?: unknown;
      };
      if (typeof c === 'string') {
        code = c;
      }
      if (typeof m === 'string') {
        message = m;
      }
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): keep the status and the text.
  }
  return new ApiError(code, message, response.status);
}

export interface IListQuery {
  status?: Status;
  notebook?: string;
  limit?: number;
  before?: string;
  /** Everyone's jobs on a shared ledger (each names its `user`), not only this user's. */
  team?: boolean;
}

export class SeedanceClient {
  constructor(private readonly _fetch: Fetcher) {}

  /** One page of jobs, newest first. */
  listJobs(query: IListQuery = {}): Promise<IJobPage> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value === true) {
        params.set(name, '1');
      } else if (value !== undefined && value !== '' && value !== false) {
        params.set(name, String(value));
      }
    }
    const search = params.toString();
    return this._json<IJobPage>(`${API}/jobs${search ? `?${search}` : ''}`);
  }

  async getJob(requestId: string): Promise<IJobSummary> {
    return this._json<IJobSummary>(this._jobPath(requestId));
  }

  async cancelJob(requestId: string): Promise<IJobSummary> {
    return this._json<IJobSummary>(`${this._jobPath(requestId)}/cancel`, {
      method: 'POST'
    });
  }

  /** This user's spend; `team`: everyone's on a shared ledger, with `byUser`. */
  getSpend(team = false): Promise<ISpend> {
    return this._json<ISpend>(`${API}/spend${team ? '?team=1' : ''}`);
  }

  /**
   * A job not yet known by request id (its create POST is in flight or uncertain),
   * found by walking the newest pages of the list.
   */
  async findByClientToken(
    clientToken: string,
    maxPages = 3
  ): Promise<IJobSummary | null> {
    let before: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const result = await this.listJobs({ limit: 100, before });
      const job = result.jobs.find(j => j.clientToken === clientToken);
      if (job) {
        return job;
      }
      if (result.next === null) {
        return null;
      }
      before = result.next;
    }
    return null;
  }

  /** Open the server-sent events stream; the caller reads the body. */
  async openEvents(signal: AbortSignal): Promise<Response> {
    const response = await this._fetch(`${API}/events`, {
      headers: { Accept: 'text/event-stream' },
      cache: 'no-store',
      signal
    });
    if (!response.ok) {
      throw await errorFromResponse(response);
    }
    return response;
  }

  /** The job's URL path; an id that is not a request id is never sent (the server knows none). */
  private _jobPath(requestId: string): string {
    if (!isRequestId(requestId)) {
      throw new ApiError('not_found', MSG.notARequestId, 404);
    }
    return `${API}/jobs/${encodeURIComponent(requestId)}`;
  }

  private async _json<T>(path: string, init?: RequestInit): Promise<T> {
    const response = await this._fetch(path, init);
    if (!response.ok) {
      throw await errorFromResponse(response);
    }
    return (await response.json()) as T;
  }
}
