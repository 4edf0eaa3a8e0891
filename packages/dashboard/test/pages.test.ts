// The pages as requests see them, on the memory store: what each shows, cursor pages, the
// stylesheet, and bad paths and parameters answered with 400/404/405 pages that never show a stack.
import { createHash } from 'node:crypto';
import { StoreError } from '@ironflow/core/store';
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, silentLogger } from '@ironflow/runtime';
import { createMemoryStore } from '@ironflow/store-memory';
import { describe, expect, it } from 'vitest';
import { createDashboard } from '../src/index.js';
import { client, ORIGIN } from './support/client.js';
import { memoryFixture } from './support/memory.js';
import { payment, paymentRegistration } from './support/payment.js';

/** The text of the page's body, tags removed, for assertions on what a reader sees. */
const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

describe('pages', () => {
  it('the overview shows the backlog by type and kind, dead letters per type and what is paused', async () => {
    const { engine } = await memoryFixture();
    await engine.pauseType('payment');
    const c = client(createDashboard({ engine }));
    const response = await c.get('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = textOf(await response.text());
    // p-3's charge is held by the pause; p-2's charge is dead; p-2 and p-3 have pending expiry timers (held too).
    expect(text).toContain('payment paused effect 0 0 0 1 1');
    expect(text).toContain('payment paused timer 0 0 0 2 0');
    expect(text).toMatch(/Dead letters per type .* payment 1 0/);
    expect(text).toContain('payment paused');
  });

  it('the instance list pages through every instance with its cursor, and filters by status and parent', async () => {
    const engine = createEngine({ store: createMemoryStore(), workflows: [paymentRegistration({ failing: new Map() })], logger: silentLogger });
    const ids = Array.from({ length: 120 }, (_, i) => `p-${String(i).padStart(3, '0')}`);
    for (const paymentId of ids) await engine.execute(payment, { type: 'Charge', paymentId, amount: 1, note: '' });
    const c = client(createDashboard({ engine }));
    const seen: string[] = [];
    let path: string | undefined = '/instances';
    let pages = 0;
    while (path !== undefined) {
      const html: string = await (await c.get(path)).text();
      pages += 1;
      seen.push(...[...html.matchAll(/<a href="\/instances\/payment\/([^"]+)">/g)].map((m) => decodeURIComponent(m[1]!)));
      const next: string | undefined = /<a href="([^"]+)" rel="next">/.exec(html)?.[1];
      path = next?.replaceAll('&amp;', '&');
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    expect(textOf(await (await c.get('/instances?status=completed')).text())).toContain('No instances match.');
    expect(textOf(await (await c.get('/instances?parentType=payment&parentId=p-001')).text())).toContain('Children of payment p-001');
  });

  it('the instance page shows state only with the definition, and the path through its declared machine', async () => {
    const { engine } = await memoryFixture();
    const html = await (await client(createDashboard({ engine, workflows: [paymentRegistration({ failing: new Map() })] })).get('/instances/payment/p-1')).text();
    const withDefinition = textOf(html);
    expect(withDefinition).toContain('"status": "paid"');
    expect(withDefinition).toMatch(/Path taken .* 1 New Charging Charge ChargeRequested .* 2 Charging Paid Charged Charged/);
    expect(html).toMatch(/<g class="node current terminal" data-state="Paid">/);
    expect(html).toMatch(/<g class="node visited" data-state="New">/);
    expect(html).toMatch(/<g class="node terminal" data-state="Expired">/);
    expect(html).toMatch(/<g class="edge taken" data-from="Charging" data-to="Paid">/);
    expect(html).toMatch(/<g class="edge" data-from="Charging" data-to="Expired">/);
    expect(withDefinition).toContain('stateDiagram-v2');
    expect(html).not.toContain('style=');

    const without = textOf(await (await client(createDashboard({ engine })).get('/instances/payment/p-1')).text());
    expect(without).toContain("Give the dashboard this workflow's definition");
    expect(without).not.toContain('"status": "paid"');
    expect(without).toMatch(/Path taken .* 1 Charge ChargeRequested .* 2 Charged Charged/);

    const noMachine = textOf(await (await client(createDashboard({ engine, workflows: [{ ...payment, stateMachine: undefined }] })).get('/instances/payment/p-1')).text());
    expect(noMachine).toContain('"status": "paid"');
    expect(noMachine).toMatch(/declares no stateMachine: these are the decisions it went through. .* 1 Charge ChargeRequested/);

    const broken = { ...payment, stateMachine: { machine: payment.stateMachine!.machine, statusOf: () => 'Lost' } };
    expect(textOf(await (await client(createDashboard({ engine, workflows: [broken] })).get('/instances/payment/p-1')).text())).toMatch(
      /could not be drawn: stateMachine.statusOf of payment returned "Lost"/,
    );
  });

  it('serves its stylesheet under the base path with a year of caching and a matching integrity hash', async () => {
    const { engine } = await memoryFixture();
    const c = client(createDashboard({ engine, basePath: '/ops/' }));
    const html = await (await c.get('/ops')).text();
    const [, href, integrity] = /<link rel="stylesheet" href="([^"]+)" integrity="([^"]+)"/.exec(html) ?? [];
    expect(href).toMatch(/^\/ops\/assets\/dashboard\.[0-9a-f]{12}\.css$/);
    const css = await c.get(href!);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(integrity).toBe(`sha256-${createHash('sha256').update(await css.text()).digest('base64')}`);
    expect((await c.get('/ops/assets/other.css')).status).toBe(404);
  });

  it('answers HEAD like GET without a body, and other methods with 405', async () => {
    const { engine } = await memoryFixture();
    const dashboard = createDashboard({ engine });
    const head = await dashboard(new Request(`${ORIGIN}/paused`, { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const put = await dashboard(new Request(`${ORIGIN}/paused`, { method: 'PUT' }));
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
  });

  it('answers bad paths and parameters with 400 and 404 pages, never a stack trace', async () => {
    const { engine } = await memoryFixture();
    const c = client(createDashboard({ engine, basePath: '/ops', authorize: () => true }));
    const cases: [string, number, string][] = [
      ['/elsewhere', 404, 'The dashboard is mounted at /ops/'],
      ['/ops/nothing', 404, 'There is no such page'],
      ['/ops/instances/payment', 404, 'There is no such page'],
      ['/ops/instances/payment/p-404', 404, 'There is no instance p-404 of workflow type payment'],
      ['/ops/instances/payment/%E0%A4%A', 400, 'not valid percent-encoding'],
      [`/ops/instances/payment/${'x'.repeat(600)}`, 400, 'at most 512 characters'],
      ['/ops/instances?status=lost', 400, 'status must be one of active, completed, cancelled'],
      ['/ops/instances?after=garbage', 400, 'after is not a cursor this store gave out'],
      ['/ops/instances?id=p-', 400, 'searching by id needs a workflow type'],
      ['/ops/instances?parentType=payment', 400, 'a parent filter needs both'],
      ['/ops/dead-letters?kind=job', 400, 'kind must be effect or timer'],
      ['/ops/dead-letters?after=%5B1%5D', 400, 'after'],
    ];
    for (const [path, status, message] of cases) {
      const response = await c.get(path);
      const text = await response.text();
      expect([path, response.status]).toEqual([path, status]);
      expect(textOf(text)).toContain(message);
      expect(text).not.toMatch(/\bat .*\.ts:\d+/);
    }
  });

  it('refuses malformed actions: unknown, without a reason, not a form, too large', async () => {
    const { engine } = await memoryFixture();
    const dashboard = createDashboard({ engine, authorize: () => true });
    const c = client(dashboard);
    await c.get('/');
    expect((await c.post('/instances/payment/p-3/explode')).status).toBe(404);
    expect((await c.post('/dead-letters/job/1/redrive')).status).toBe(404);
    const noReason = await c.post('/instances/payment/p-3/cancel', { reason: '   ' });
    expect(noReason.status).toBe(400);
    expect(textOf(await noReason.text())).toContain('Cancelling needs a reason');
    const json = await dashboard(new Request(`${ORIGIN}/types/payment/pause`, { method: 'POST', body: '{}', headers: { cookie: c.cookie!, 'content-type': 'application/json' } }));
    expect(json.status).toBe(415);
    const large = await c.post('/instances/payment/p-3/cancel', { reason: 'x'.repeat(20_000) });
    expect(large.status).toBe(413);
    expect((await engine.pageInstances({ status: 'cancelled' })).items).toEqual([]);
  });

  it('performs each action and says what happened on the page it returns to', async () => {
    const { engine, deadId, gateway } = await memoryFixture();
    const c = client(createDashboard({ engine, authorize: () => true }));
    await c.get('/');
    const follow = async (response: Response) => {
      expect(response.status).toBe(303);
      return textOf(await (await c.get(response.headers.get('location')!)).text());
    };
    expect(await follow(await c.post('/instances/payment/p-3/pause'))).toContain('Paused: its effects and timers stay pending');
    expect(await follow(await c.post('/instances/payment/p-3/pause'))).toContain('Already paused: nothing changed.');
    expect(await engine.listPaused()).toEqual([expect.objectContaining({ type: 'payment', id: 'p-3' })]);
    expect(await follow(await c.post('/instances/payment/p-3/resume'))).toContain('Resumed');
    expect(await follow(await c.post('/types/payment/resume'))).toContain('Not paused: nothing changed.');
    gateway.failing.clear();
    expect(await follow(await c.post(`/dead-letters/effect/${deadId}/redrive`))).toContain('Re-driven');
    expect(await follow(await c.post(`/dead-letters/effect/${deadId}/redrive`))).toContain('no longer a dead letter');
    const cancelled = await c.post('/instances/payment/p-3/cancel', { reason: 'customer <asked>' });
    expect(cancelled.headers.get('location')).toBe('/instances/payment/p-3?notice=cancelled');
    const page = await (await c.get(cancelled.headers.get('location')!)).text();
    expect(page).toContain('customer &lt;asked>');
    expect(await follow(await c.post('/instances/payment/p-3/cancel', { reason: 'again' }))).toContain('Nothing cancelled: the instance does not exist or has already ended.');
    await engine.runUntilIdle();
    expect((await engine.getState(payment, 'p-2')).state.status).toBe('paid');
  });

  it('answers 503 when the store fails and 500 on anything else, with the details only in onError', async () => {
    const memory = createMemoryStore();
    let failure: Error | undefined;
    // A store that fails its listings on demand, as a database that went away would.
    const store = new Proxy(memory, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name === 'pageInstances' && failure !== undefined) return () => Promise.reject(failure);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as WorkflowStore;
    const engine = createEngine({ store, workflows: [paymentRegistration({ failing: new Map() })], logger: silentLogger });
    const errors: unknown[] = [];
    const c = client(createDashboard({ engine, onError: (error) => errors.push(error) }));
    failure = new StoreError('unavailable', 'connection refused to db.internal:5432');
    const unavailable = await c.get('/instances');
    expect(unavailable.status).toBe(503);
    expect(await unavailable.text()).not.toContain('db.internal');
    failure = new TypeError('secret internals');
    const broken = await c.get('/instances');
    expect(broken.status).toBe(500);
    expect(await broken.text()).not.toContain('secret internals');
    expect(errors).toHaveLength(2);
  });

  it('refuses bad options when it is created', () => {
    expect(() => createDashboard({} as never)).toThrow(/createDashboard needs \{ engine \}/);
    const engine = createEngine({ store: createMemoryStore(), workflows: [], logger: silentLogger });
    expect(() => createDashboard({ engine, basePath: 'ops' })).toThrow(/basePath must be a path/);
    expect(() => createDashboard({ engine, basePath: '/ops?x' })).toThrow(/basePath must be a path/);
    expect(() => createDashboard({ engine, authorize: true as never })).toThrow(/authorize must be a function/);
    expect(() => createDashboard({ engine, workflows: [{} as never] })).toThrow(/workflows must be workflow definitions or registrations/);
    expect(createDashboard({ engine, basePath: '/' }).basePath).toBe('');
    expect(createDashboard({ engine, basePath: '/a/b/' }).basePath).toBe('/a/b');
  });
});
