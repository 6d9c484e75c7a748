/** What the views share: one REST client, one event stream, the server's base URL. */
import type { SeedanceClient } from './client';
import type { EventStream } from './events';
import type { KernelCancel } from './kernel-cancel';

export interface ISeedanceServices {
  client: SeedanceClient;
  events: EventStream;
  /** For `files/` URLs of downloaded videos. */
  baseUrl: string;
  /** Cancel in the notebook's kernel, when the app can find a card's notebook. */
  kernelCancel?: KernelCancel;
}

/** The error text a person can act on. */
export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
