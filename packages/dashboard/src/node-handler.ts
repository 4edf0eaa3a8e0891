// The node:http adapter: turns an IncomingMessage into a fetch Request, calls the dashboard, and
// writes its Response. It takes Express's `next` too, so it mounts as Express middleware.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dashboard } from './dashboard.js';
import { MAX_FORM_BYTES } from './http.js';

/** A node:http request listener that is also Express middleware (`next` is called for paths outside the dashboard). */
export type NodeHandler = (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void) => void;

/** Fields Express adds to a request: the path before mounting, and a body a parser read already. */
interface FrameworkRequest extends IncomingMessage {
  originalUrl?: string | undefined;
  body?: unknown;
}

/** Reads the body, refusing more than the dashboard accepts (its forms are small). */
async function readBody(request: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.byteLength;
    if (size > MAX_FORM_BYTES) return 'too-large';
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** The body of a request whose stream a body parser (express.urlencoded) has read already. */
function parsedBody(body: unknown): Buffer | undefined {
  if (typeof body === 'string') return Buffer.from(body);
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'object' && body !== null && Object.keys(body).length > 0) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(body)) if (typeof value === 'string') params.append(name, value);
    return Buffer.from(params.toString());
  }
  return undefined;
}

/** The request as the fetch API sees it. */
async function toRequest(request: FrameworkRequest, path: string): Promise<Request | 'too-large'> {
  const secure = (request.socket as { encrypted?: boolean }).encrypted === true;
  // Built as text, not resolved against a base: a path such as `//other.host/` must stay a path.
  const host = request.headers.host !== undefined && /^[A-Za-z0-9.\-:[\]]+$/.test(request.headers.host) ? request.headers.host : 'localhost';
  const url = new URL(`${secure ? 'https' : 'http'}://${host}${path.startsWith('/') ? path : `/${path}`}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const method = request.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return new Request(url, { method, headers });
  const body = request.readableEnded ? parsedBody(request.body) : await readBody(request);
  if (body === 'too-large') return body;
  if (body === undefined) return new Request(url, { method, headers });
  headers.set('content-length', String(body.byteLength));
  return new Request(url, { method, headers, body: new Uint8Array(body) });
}

/** Writes a fetch Response to a node:http response. */
async function send(response: Response, out: ServerResponse): Promise<void> {
  out.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') out.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) out.setHeader('set-cookie', cookies);
  out.end(response.body === null ? undefined : Buffer.from(await response.arrayBuffer()));
}

/**
 * Adapts the dashboard to node:http — `createServer(toNodeHandler(dashboard))` — and to Express —
 * `app.use('/ironflow', toNodeHandler(dashboard))` with `basePath: '/ironflow'`. Requests outside
 * the base path go to `next` when there is one, else get the dashboard's 404.
 * @example createServer(toNodeHandler(createDashboard({ engine }))).listen(3000, '127.0.0.1');
 */
export function toNodeHandler(dashboard: Dashboard): NodeHandler {
  return (request, response, next) => {
    const path = (request as FrameworkRequest).originalUrl ?? request.url ?? '/';
    const pathname = path.split('?')[0] ?? '/';
    const base = dashboard.basePath;
    if (next !== undefined && pathname !== base && !pathname.startsWith(`${base}/`)) {
      next();
      return;
    }
    toRequest(request as FrameworkRequest, path)
      .then(async (fetchRequest) => {
        if (fetchRequest === 'too-large') {
          response.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('request body too large\n');
          return;
        }
        await send(await dashboard(fetchRequest), response);
      })
      .catch((error: unknown) => {
        if (next !== undefined) return next(error);
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end('internal error\n');
      });
  };
}
