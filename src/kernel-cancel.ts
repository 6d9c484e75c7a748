/**
 * Cancel through the notebook's kernel when the Jupyter server cannot: a job of
 * another service than the server's (a notebook that chose its service itself)
 * can only be cancelled with that service's key, which the kernel has.
 */
import type { Kernel } from '@jupyterlab/services';

import { kernelCancelCode } from './card-model';

/** The kernel's part of what the card needs (plain objects stand in for it in tests). */
export type CancelKernel = Pick<
  Kernel.IKernelConnection,
  'status' | 'requestExecute'
>;

/** Runs `%seedance cancel ID` in the kernel of the notebook holding `node`; false when
 * it could not be sent (no kernel, kernel busy, unsafe id) or the kernel answered an error. */
export type KernelCancel = (
  node: HTMLElement,
  requestId: string
) => Promise<boolean>;

export function kernelCanceller(
  kernelOf: (node: HTMLElement) => CancelKernel | null
): KernelCancel {
  return async (node, requestId) => {
    const code = kernelCancelCode(requestId);
    const kernel = kernelOf(node);
    // A busy kernel would run it only after its cell: say so instead of waiting.
    if (code === null || kernel === null || kernel.status !== 'idle') {
      return false;
    }
    const reply = await kernel.requestExecute({
      code,
      silent: true,
      store_history: false
    }).done;
    return reply.content.status === 'ok';
  };
}
