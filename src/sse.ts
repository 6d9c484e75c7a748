/**
 * An incremental parser for `text/event-stream` (the WHATWG rules we need):
 * chunks may split anywhere, including between `\r` and `\n`.
 */

export interface ISseEvent {
  /** `message` when the event named none. */
  event: string;
  data: string;
}

export class SseParser {
  /**
   * Feed decoded text; returns the events completed by it. Comment lines
   * (`: keepalive`) complete nothing but count as traffic for the caller.
   */
  feed(text: string): ISseEvent[] {
    this._buffer += text;
    const events: ISseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this._buffer);
      if (!match) {
        break;
      }
      // A lone `\r` at the very end may be the first half of `\r\n`: wait for more.
      if (match[0] === '\r' && match.index === this._buffer.length - 1) {
        break;
      }
      const line = this._buffer.slice(0, match.index);
      this._buffer = this._buffer.slice(match.index + match[0].length);
      const event = this._line(line);
      if (event) {
        events.push(event);
      }
    }
    return events;
  }

  /** Forget a half-read event (the connection it came from is gone). */
  reset(): void {
    this._buffer = '';
    this._event = '';
    this._data = [];
  }

  /** The server's `retry:` advice in milliseconds, if it sent one. */
  get retryMs(): number | null {
    return this._retryMs;
  }

  private _line(line: string): ISseEvent | null {
    if (line === '') {
      return this._dispatch();
    }
    if (line.startsWith(':')) {
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    if (field === 'event') {
      this._event = value;
    } else if (field === 'data') {
      this._data.push(value);
    } else if (field === 'retry' && /^\d+$/.test(value)) {
      this._retryMs = Number(value);
    }
    return null;
  }

  private _dispatch(): ISseEvent | null {
    const event = this._event || 'message';
    const data = this._data;
    this._event = '';
    this._data = [];
    if (data.length === 0) {
      return null;
    }
    return { event, data: data.join('\n') };
  }

  private _buffer = '';
  private _event = '';
  private _data: string[] = [];
  private _retryMs: number | null = null;
}
