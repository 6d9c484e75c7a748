/**
 * Open a view in JupyterLab's main area as a tab; Notebook 7 keeps one document
 * in its main area, so there the view opens in a dialog instead.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, MainAreaWidget, showDialog } from '@jupyterlab/apputils';
import type { Widget } from '@lumino/widgets';

import { seedanceIcon } from './icons';

export async function openInMainArea(
  app: JupyterFrontEnd,
  content: Widget,
  dialogContent: () => Widget
): Promise<void> {
  const widget = new MainAreaWidget({ content });
  widget.id = content.id;
  widget.title.label = content.title.label;
  widget.title.icon = seedanceIcon;
  app.shell.add(widget, 'main');
  if (widget.isAttached) {
    app.shell.activateById(widget.id);
    return;
  }
  widget.dispose();
  await showDialog({
    title: content.title.label,
    body: dialogContent(),
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
}
