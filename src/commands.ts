/**
 * The commands: insert a `%%seedance` cell, open the form, show the panel,
 * compare the picked takes. Notebook commands need a notebook tracker, which
 * a Notebook 7 tree page lacks: then they are simply not enabled.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import {
  NotebookActions,
  type INotebookTracker,
  type NotebookPanel
} from '@jupyterlab/notebook';

import { CompareView } from './compare';
import { GalleryView } from './gallery';
import { seedanceIcon } from './icons';
import { MSG } from './messages';
import { LOAD_EXT, loadsExtension, SILENT_LOAD } from './load-ext';
import { openInMainArea } from './main-area';
import { COMMAND_COMPARE, COMMAND_GALLERY, PANEL_ID } from './panel';
import type { JobsModel } from './panel-model';

export const CommandIds = {
  insertCell: 'seedance:insert-cell',
  openForm: 'seedance:open-form',
  openPanel: 'seedance:open-panel',
  gallery: COMMAND_GALLERY,
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

  addViewCommands(app, model, baseUrl);
}

/** The gallery and compare, which open in the main area (a dialog in Notebook 7). */
function addViewCommands(
  app: JupyterFrontEnd,
  model: JobsModel,
  baseUrl: string
): void {
  const { commands, shell } = app;
  commands.addCommand(CommandIds.gallery, {
    label: MSG.openGallery,
    caption: MSG.openGallery,
    icon: seedanceIcon,
    execute: async args => {
      const token = typeof args.play === 'string' ? args.play : null;
      const job = token === null ? undefined : model.get(token);
      let gallery = galleryOpen(app);
      if (gallery) {
        shell.activateById(gallery.parent?.id ?? GalleryView.ID);
      } else {
        gallery = new GalleryView(model);
        const shown = gallery;
        await openInMainArea(app, gallery, () => {
          shown.dispose();
          const inDialog = new GalleryView(model);
          if (job) {
            requestAnimationFrame(() => {
              inDialog.play(job);
            });
          }
          return inDialog;
        });
      }
      if (job && !gallery.isDisposed) {
        gallery.play(job);
      }
    }
  });

  commands.addCommand(CommandIds.compare, {
    label: () => MSG.compareCommand(model.selected().length),
    caption: MSG.compareHint,
    isEnabled: () => model.canCompare(),
    execute: async () => {
      if (!model.canCompare()) {
        return;
      }
      await openInMainArea(
        app,
        new CompareView(model.selected(), baseUrl),
        () => new CompareView(model.selected(), baseUrl)
      );
    }
  });
}

/** The gallery already open in the main area, if any (there is one at most). */
function galleryOpen(app: JupyterFrontEnd): GalleryView | null {
  for (const widget of app.shell.widgets('main')) {
    const content = (widget as { content?: unknown }).content;
    if (content instanceof GalleryView) {
      return content;
    }
  }
  return null;
}
