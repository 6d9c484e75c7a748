import { SseParser } from '../sse';

describe('SseParser', () => {
  it('parses named events and skips keepalive comments', () => {
    const parser = new SseParser();
    const events = parser.feed(
      ': keepalive\n\nevent: job\ndata: {"a":1}\n\nevent: spend\ndata: {"b":2}\n\n'
    );
    expect(events).toEqual([
      { event: 'job', data: '{"a":1}' },
      { event: 'spend', data: '{"b":2}' }
    ]);
  });

  it('completes an event only at the blank line, across any chunk split', () => {
    const text =
      'event: job\ndata: {"requestId":"req_1"}\n\nevent: job\ndata: x\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      const parser = new SseParser();
      const events = [
        ...parser.feed(text.slice(0, cut)),
        ...parser.feed(text.slice(cut))
      ];
      expect(events).toEqual([
        { event: 'job', data: '{"requestId":"req_1"}' },
        { event: 'job', data: 'x' }
      ]);
    }
  });

  it('treats CRLF split between chunks as one line end', () => {
    const parser = new SseParser();
    expect(parser.feed('event: job\r')).toEqual([]);
    expect(parser.feed('\ndata: 1\r\n\r')).toEqual([]);
    expect(parser.feed('\n')).toEqual([{ event: 'job', data: '1' }]);
  });

  it('joins multi-line data, defaults the name, keeps only one leading space', () => {
    const parser = new SseParser();
    expect(parser.feed('data:a\ndata:  b\n\n')).toEqual([
      { event: 'message', data: 'a\n b' }
    ]);
  });

  it('ignores an event with no data and remembers retry advice', () => {
    const parser = new SseParser();
    expect(parser.feed('event: job\n\nretry: 2500\n\n')).toEqual([]);
    expect(parser.retryMs).toBe(2500);
  });

  it('drops a half-read event on reset', () => {
    const parser = new SseParser();
    parser.feed('event: job\ndata: part');
    parser.reset();
    expect(parser.feed('\n\ndata: whole\n\n')).toEqual([
      { event: 'message', data: 'whole' }
    ]);
  });
});
