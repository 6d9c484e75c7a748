/** What the views share: one REST client, one event stream, the server's base URL. */
import type { SeedanceClient } from './client';
import type { EventStream } from './events';

export interface ISeedanceServices {
  client: SeedanceClient;
  events: EventStream;
  /** For `files/` URLs of downloaded videos. */
  baseUrl: string;
}

/** The error text a person can act on. */
export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
