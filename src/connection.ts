/** The one place that knows how to reach the Jupyter server: token, cookie and XSRF included. */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { SeedanceClient, type Fetcher } from './client';
import { EventStream } from './events';
import type { ISeedanceServices } from './services';

export function serverFetcher(settings: ServerConnection.ISettings): Fetcher {
  return (path, init = {}) => {
    const [route, query] = path.split('?', 2);
    const url =
      URLExt.join(settings.baseUrl, route) + (query ? `?${query}` : '');
    return ServerConnection.makeRequest(url, init, settings);
  };
}

export function createServices(
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): ISeedanceServices {
  const client = new SeedanceClient(serverFetcher(settings));
  const events = new EventStream({ open: signal => client.openEvents(signal) });
  return { client, events, baseUrl: settings.baseUrl };
}
