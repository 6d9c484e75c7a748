/**
 * The commands: insert a `%%seedance` cell, open the form, show the panel,
 * compare the picked takes. Notebook commands need a notebook tracker, which
 * a Notebook 7 tree page lacks: then they are simply not enabled.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, MainAreaWidget, showDialog } from '@jupyterlab/apputils';
import {
  NotebookActions,
  type INotebookTracker,
  type NotebookPanel
} from '@jupyterlab/notebook';

import { CompareView } from './compare';
import { seedanceIcon } from './icons';
import { MSG } from './messages';
import { LOAD_EXT, loadsExtension, SILENT_LOAD } from './load-ext';
import { COMMAND_COMPARE, PANEL_ID } from './panel';
import type { JobsModel } from './panel-model';

export const CommandIds = {
  insertCell: 'seedance:insert-cell',
  openForm: 'seedance:open-form',
  openPanel: 'seedance:open-panel',
  compare: COMMAND_COMPARE
} as const;

function cellSources(panel: NotebookPanel): string[] {
  const cells = panel.content.model?.cells;
  if (!cells) {
    return [];
  }
  return Array.from({ length: cells.length }, (_, i) =>
    cells.get(i).sharedModel.getSource()
  );
}

/** Insert a code cell below the active one with `source` and make it active; run it when asked. */
async function insertBelow(
  panel: NotebookPanel,
  source: string,
  run: boolean
): Promise<void> {
  const notebook = panel.content;
  if (!notebook.model) {
    return;
  }
  const index = notebook.activeCellIndex + 1;
  notebook.model.sharedModel.insertCell(index, { cell_type: 'code', source });
  notebook.activeCellIndex = index;
  notebook.deselectAll();
  if (run) {
    await NotebookActions.run(notebook, panel.sessionContext);
  }
}

/** A `%load_ext` cell first when no cell loads the extension yet, so the new cell runs anywhere. */
async function ensureLoaded(panel: NotebookPanel): Promise<void> {
  if (!loadsExtension(cellSources(panel))) {
    await insertBelow(panel, LOAD_EXT, true);
  }
}

/** Load the extension in the notebook's kernel quietly (see SILENT_LOAD). */
async function loadInKernel(panel: NotebookPanel): Promise<void> {
  await panel.sessionContext.ready;
  const kernel = panel.sessionContext.session?.kernel;
  if (kernel) {
    await kernel.requestExecute({
      code: SILENT_LOAD,
      silent: true,
      store_history: false
    }).done;
  }
}

export function addCommands(
  app: JupyterFrontEnd,
  model: JobsModel,
  baseUrl: string,
  tracker: INotebookTracker | null
): void {
  const { commands, shell } = app;
  const notebook = (): NotebookPanel | null => {
    const current = tracker?.currentWidget ?? null;
    return current && current === shell.currentWidget ? current : null;
  };

  commands.addCommand(CommandIds.insertCell, {
    label: MSG.insertCell,
    caption: MSG.insertCell,
    icon: seedanceIcon,
    isEnabled: () => notebook() !== null,
    execute: async () => {
      const panel = notebook();
      if (!panel) {
        return;
      }
      await ensureLoaded(panel);
      await insertBelow(panel, MSG.newCell, false);
      panel.content.mode = 'edit';
    }
  });

  commands.addCommand(CommandIds.openForm, {
    label: MSG.openForm,
    caption: MSG.openForm,
    isEnabled: () => notebook() !== null,
    execute: async () => {
      const panel = notebook();
      if (!panel) {
        return;
      }
      await ensureLoaded(panel);
      await loadInKernel(panel);
      await insertBelow(panel, '%seedance form', true);
    }
  });

  commands.addCommand(CommandIds.openPanel, {
    label: MSG.openPanel,
    caption: MSG.openPanel,
    execute: () => {
      shell.activateById(PANEL_ID);
    }
  });

  commands.addCommand(CommandIds.compare, {
    label: MSG.compareCommand,
    caption: MSG.compareHint,
    isEnabled: () => model.canCompare(),
    execute: async () => {
      if (!model.canCompare()) {
        return;
      }
      const view = new CompareView(model.selected(), baseUrl);
      const widget = new MainAreaWidget({ content: view });
      widget.id = view.id;
      widget.title.label = view.title.label;
      widget.title.icon = seedanceIcon;
      shell.add(widget, 'main');
      if (widget.isAttached) {
        shell.activateById(widget.id);
        return;
      }
      // Notebook 7 keeps one widget in its main area: show compare in a dialog there.
      widget.dispose();
      await showDialog({
        title: MSG.compareTitle,
        body: new CompareView(model.selected(), baseUrl),
        buttons: [Dialog.okButton({ label: 'Close' })]
      });
    }
  });
}
