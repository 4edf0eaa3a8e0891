// Serves a dashboard on 127.0.0.1 (a free port) through the node:http adapter, as an app would.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler, type Dashboard } from '../../src/index.js';

export interface Served {
  /** `http://127.0.0.1:port`. */
  readonly origin: string;
  close(): Promise<void>;
}

export async function serve(dashboard: Dashboard): Promise<Served> {
  const server = createServer(toNodeHandler(dashboard));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
