/**
 * Seedance in JupyterLab 4 and Notebook 7. Only the rendermime registry is
 * required; the sidebar, status bar, palette, notebook toolbar and layout
 * restorer are used when the app has them.
 */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { CommandToolbarButton, ICommandPalette } from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import {
  INotebookTracker,
  type INotebookModel,
  type NotebookPanel
} from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IStatusBar } from '@jupyterlab/statusbar';

import { addCommands, CommandIds } from './commands';
import { createServices } from './connection';
import { JobsFeed } from './feed';
import { kernelCanceller } from './kernel-cancel';
import { JobsModel } from './panel-model';
import { SeedancePanel } from './panel';
import { promptHighlightPlugin } from './prompt-highlight';
import {
  jobListRendererFactory,
  jobRendererFactory,
  RENDERER_RANK
} from './renderer';
import { SeedanceStatus } from './statusbar';

const CATEGORY = 'Seedance';
/** Notebook 7's plugin that puts each side panel in the View menu and the palette. */
const NOTEBOOK_SIDE_PANELS =
  '@jupyter-notebook/application-extension:sidepanel';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'seedance-jupyter:plugin',
  description:
    'Seedance job cards, the jobs panel with gallery and compare, and spend in the status bar.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [INotebookTracker, ICommandPalette, IStatusBar, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    tracker: INotebookTracker | null,
    palette: ICommandPalette | null,
    statusBar: IStatusBar | null,
    restorer: ILayoutRestorer | null
  ) => {
    const services = createServices();
    if (tracker) {
      services.kernelCancel = kernelCanceller(
        node =>
          tracker.find(panel => panel.node.contains(node))?.sessionContext
            .session?.kernel ?? null
      );
    }
    rendermime.addFactory(jobRendererFactory(services), RENDERER_RANK);
    rendermime.addFactory(jobListRendererFactory(services), RENDERER_RANK);

    const model = new JobsModel(services.baseUrl);
    const feed = new JobsFeed(services, model);
    addCommands(app, model, services.baseUrl, tracker);
    model.changed.connect(() => {
      app.commands.notifyCommandChanged(CommandIds.compare);
    });

    const panel = new SeedancePanel(services, feed, app.commands);
    app.shell.add(panel, 'left', { rank: 900 });
    restorer?.add(panel, panel.id);

    if (statusBar) {
      statusBar.registerStatusItem('seedance-jupyter:status', {
        item: new SeedanceStatus(model, () => {
          void app.commands.execute(CommandIds.openPanel);
        }),
        align: 'left',
        rank: 50
      });
    }

    if (palette) {
      // Notebook 7 lists every side panel in the palette itself ("Show <caption>"):
      // the panel is listed once, under that one name.
      const listsPanels = app.hasPlugin(NOTEBOOK_SIDE_PANELS);
      for (const command of Object.values(CommandIds)) {
        if (!(listsPanels && command === CommandIds.openPanel)) {
          palette.addItem({ command, category: CATEGORY });
        }
      }
    }

    const toolbarButton: DocumentRegistry.IWidgetExtension<
      NotebookPanel,
      INotebookModel
    > = {
      createNew: nbPanel => {
        const button = new CommandToolbarButton({
          commands: app.commands,
          id: CommandIds.insertCell,
          label: ''
        });
        nbPanel.toolbar.insertAfter('cellType', 'seedance-insert-cell', button);
        return button;
      }
    };
    app.docRegistry.addWidgetExtension('Notebook', toolbarButton);

    services.events.start();
  }
};

export default [plugin, promptHighlightPlugin];
