// @ironflow/dashboard — a web dashboard for Ironflow served by a standard fetch handler, with the
// node:http (and Express) adapter; Fastify and Hono recipes are in docs/dashboard.md.
export { createDashboard } from './dashboard.js';
export type { Dashboard, DashboardOptions } from './dashboard.js';
export type { DashboardAction } from './actions.js';
export { toNodeHandler } from './node-handler.js';
export type { NodeHandler } from './node-handler.js';
export { CONTENT_SECURITY_POLICY } from './security.js';
