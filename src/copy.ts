/** Copy a text to the clipboard and say so on the button for a moment. */
import { Clipboard } from '@jupyterlab/apputils';

import { setText } from './dom';
import { MSG } from './messages';

/** How long a button reads "Copied" after a click. */
export const COPIED_MS = 1500;

export function copyWithFeedback(
  button: HTMLButtonElement,
  text: string,
  idleLabel: string
): void {
  Clipboard.copyToSystem(text);
  setText(button, MSG.copied);
  button.classList.add('seedance-copied');
  window.setTimeout(() => {
    setText(button, idleLabel);
    button.classList.remove('seedance-copied');
  }, COPIED_MS);
}
