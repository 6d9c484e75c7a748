import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { createServices } from './connection';
import { jobRendererFactory, RENDERER_RANK } from './renderer';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'seedance-jupyter:plugin',
  description:
    'Seedance job cards, the jobs panel, gallery, compare and spend.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  activate: (_app: JupyterFrontEnd, rendermime: IRenderMimeRegistry) => {
    const services = createServices();
    rendermime.addFactory(jobRendererFactory(services), RENDERER_RANK);
    services.events.start();
  }
};

export default [plugin];
