import { kernelCanceller, type CancelKernel } from '../kernel-cancel';

/** A kernel that records what it was asked to run and answers `status`. */
function fakeKernel(
  kernelStatus: string,
  replyStatus = 'ok'
): { kernel: CancelKernel; sent: unknown[] } {
  const sent: unknown[] = [];
  const kernel = {
    status: kernelStatus,
    requestExecute: (content: unknown) => {
      sent.push(content);
      return { done: Promise.resolve({ content: { status: replyStatus } }) };
    }
  } as unknown as CancelKernel;
  return { kernel, sent };
}

const node = {} as HTMLElement;

describe('cancelling through the notebook kernel', () => {
  it('runs %seedance cancel silently in an idle kernel', async () => {
    const { kernel, sent } = fakeKernel('idle');
    expect(await kernelCanceller(() => kernel)(node, 'req_1')).toBe(true);
    expect(sent).toEqual([
      { code: '%seedance cancel req_1', silent: true, store_history: false }
    ]);
  });

  it('sends nothing to a busy kernel', async () => {
    const { kernel, sent } = fakeKernel('busy');
    expect(await kernelCanceller(() => kernel)(node, 'req_1')).toBe(false);
    expect(sent).toEqual([]);
  });

  it('is false when the kernel answers an error', async () => {
    const { kernel } = fakeKernel('idle', 'error');
    expect(await kernelCanceller(() => kernel)(node, 'req_1')).toBe(false);
  });

  it('is false without a kernel, and never sends an unsafe id', async () => {
    expect(await kernelCanceller(() => null)(node, 'req_1')).toBe(false);
    const { kernel, sent } = fakeKernel('idle');
    expect(await kernelCanceller(() => kernel)(node, 'req_1\nimport os')).toBe(
      false
    );
    expect(sent).toEqual([]);
  });
});
