// The demo's web dashboard: @ironflow/dashboard over the demo's engine, served on 127.0.0.1.
// `demo -- --dashboard [port]` serves it while the demo runs, and keeps it (and the engine) up after
// the summary until Ctrl-C, so the dead letters can be re-driven and the orders looked at.
import { createServer } from 'node:http';
import type { AnyWorkflow } from '@ironflow/core';
import { createDashboard, toNodeHandler } from '@ironflow/dashboard';
import type { Engine } from '@ironflow/runtime';
import { listen } from './listen.js';

/** A running dashboard. */
export interface DashboardServer {
  /** `http://127.0.0.1:port/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Host names that can only mean this machine. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The demo's authorize: actions are allowed to whoever reaches the server, which listens on the
 * loopback interface only, so that means someone on this machine. The Host check refuses a page
 * that a DNS-rebinding attack points at 127.0.0.1 under its own name; the dashboard's same-origin
 * and CSRF checks still apply to every action. An application puts its own login check here.
 */
export const loopbackOnly = (request: Request): boolean => LOOPBACK.has(new URL(request.url).hostname);

/**
 * Serves the dashboard of `engine` on `host:port` (port 0 picks a free one).
 * @example const dashboard = await serveDashboard({ engine, workflows: [order, shipment], port: 4400 });
 */
export async function serveDashboard(options: { engine: Engine; workflows: readonly AnyWorkflow[]; port?: number | undefined; host?: string | undefined }): Promise<DashboardServer> {
  const dashboard = createDashboard({ engine: options.engine, workflows: options.workflows, title: 'Ironflow demo', authorize: loopbackOnly });
  const server = createServer(toNodeHandler(dashboard));
  const base = await listen(server, options.port ?? 4400, options.host ?? '127.0.0.1');
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
