// The dashboard mounted as docs/dashboard.md shows: node:http through toNodeHandler, Express (with
// and without a body parser in front), Fastify and Hono. Each serves a page under the base path and
// takes an action with the page's token, and leaves other paths to the app.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboard, toNodeHandler, type Dashboard } from '../src/index.js';
import { memoryFixture } from './support/memory.js';

/** Talks to a dashboard as a browser would: its cookie, its token, same-origin form posts. */
function browserLike(fetcher: (request: Request) => Promise<Response>, origin: string) {
  let cookie = '';
  let token = '';
  return {
    async get(path: string): Promise<Response> {
      const response = await fetcher(new Request(`${origin}${path}`, { headers: cookie === '' ? {} : { cookie } }));
      const set = response.headers.getSetCookie()[0];
      if (set !== undefined) cookie = set.split(';')[0]!;
      const html = await response.clone().text();
      token = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? token;
      return response;
    },
    post(path: string): Promise<Response> {
      return fetcher(
        new Request(`${origin}${path}`, {
          method: 'POST',
          redirect: 'manual',
          body: new URLSearchParams({ csrf: token }),
          headers: { cookie, origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' },
        }),
      );
    },
  };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Opens the dashboard's paused page, pauses the payment type from it, and checks the app's own route still answers. */
async function exercise(fetcher: (request: Request) => Promise<Response>, origin: string, dashboard: Dashboard, engine: Awaited<ReturnType<typeof memoryFixture>>['engine']) {
  const client = browserLike(fetcher, origin);
  const page = await client.get(`${dashboard.basePath}/paused`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('Nothing is paused.');
  const css = /href="([^"]+\.css)"/.exec(await (await client.get(dashboard.basePath)).text())?.[1];
  expect((await client.get(css!)).headers.get('content-type')).toBe('text/css; charset=utf-8');
  const action = await client.post(`${dashboard.basePath}/types/payment/pause`);
  expect(action.status).toBe(303);
  expect(action.headers.get('location')).toBe(`${dashboard.basePath}/paused?notice=paused`);
  expect(await engine.listPaused()).toEqual([expect.objectContaining({ type: 'payment' })]);
  const app = await fetcher(new Request(`${origin}/health`));
  expect(await app.text()).toBe('app ok');
}

describe('adapters', () => {
  it('node:http: createServer(toNodeHandler(dashboard)), other paths through next', async () => {
    const { engine } = await memoryFixture();
    const dashboard = createDashboard({ engine, basePath: '/ironflow', authorize: () => true });
    const handle = toNodeHandler(dashboard);
    const origin = await listen(
      createServer((request, response) =>
        handle(request, response, () => {
          response.end('app ok');
        }),
      ),
    );
    await exercise(fetch, origin, dashboard, engine);
    // Without next, a path outside the dashboard gets its 404 page.
    const bare = await listen(createServer(toNodeHandler(dashboard)));
    expect((await fetch(`${bare}/health`)).status).toBe(404);
  });

  it('Express: app.use(basePath, toNodeHandler(dashboard)), even behind express.urlencoded()', async () => {
    for (const parser of [false, true]) {
      const { engine } = await memoryFixture();
      const dashboard = createDashboard({ engine, basePath: '/ironflow', authorize: () => true });
      const app = express();
      if (parser) app.use(express.urlencoded({ extended: false }));
      app.use('/ironflow', toNodeHandler(dashboard));
      app.get('/health', (_request, response) => {
        response.send('app ok');
      });
      const origin = await listen(createServer(app));
      await exercise(fetch, origin, dashboard, engine);
    }
  });

  it('Fastify: a scope that leaves the body to the dashboard and hands it the raw request', async () => {
    const { engine } = await memoryFixture();
    const dashboard = createDashboard({ engine, basePath: '/ironflow', authorize: () => true });
    const app = Fastify();
    const handle = toNodeHandler(dashboard);
    await app.register(async (scope) => {
      // The dashboard reads its own (small, form-encoded) bodies.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
      for (const path of ['/ironflow', '/ironflow/*']) {
        scope.all(path, (request, reply) => {
          reply.hijack();
          handle(request.raw, reply.raw);
        });
      }
    });
    app.get('/health', async () => 'app ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = app.server.address() as AddressInfo;
      await exercise(fetch, `http://127.0.0.1:${port}`, dashboard, engine);
    } finally {
      await app.close();
    }
  });

  it('Hono: the fetch handler takes c.req.raw as it is', async () => {
    const { engine } = await memoryFixture();
    const dashboard = createDashboard({ engine, basePath: '/ironflow', authorize: () => true });
    const app = new Hono();
    app.all('/ironflow', (c) => dashboard(c.req.raw));
    app.all('/ironflow/*', (c) => dashboard(c.req.raw));
    app.get('/health', (c) => c.text('app ok'));
    await exercise(async (request) => app.fetch(request), 'http://dashboard.test', dashboard, engine);
  });

  it('node:http refuses a body larger than any dashboard form before reading it all', async () => {
    const { engine } = await memoryFixture();
    const origin = await listen(createServer(toNodeHandler(createDashboard({ engine, authorize: () => true }))));
    const response = await fetch(`${origin}/types/payment/pause`, { method: 'POST', body: 'x'.repeat(100_000), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(response.status).toBe(413);
    expect(await engine.listPaused()).toEqual([]);
  });
});
