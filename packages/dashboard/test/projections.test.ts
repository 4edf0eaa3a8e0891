// The projection pages and actions as requests see them, on the memory store with projections
// seeded through the store port: the list with checkpoints, leases and lag; one projection's dead
// letters in cursor pages; re-drive, and skip and reset through their confirmation pages; every
// refusal (no confirmation, a bad position, an unknown name, read-only, authorize) writing nothing.
import type { WorkflowStore } from '@ironflow/core/store';
import { createEngine, silentLogger } from '@ironflow/runtime';
import { createMemoryStore } from '@ironflow/store-memory';
import { describe, expect, it, vi } from 'vitest';
import { shortPosition } from '../src/format.js';
import { createDashboard, type DashboardAction } from '../src/index.js';
import { client } from './support/client.js';
import { memoryFixture } from './support/memory.js';
import { HOSTILE_ERROR, seedProjections } from './support/projections.js';

/** The text of the page's body, tags removed. */
const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The memory fixture (four events) with the projections seeded. */
async function fixture(bulkLetters = 0) {
  const memory = await memoryFixture();
  const seeded = await seedProjections(memory.store, { minEvents: 4, bulkLetters });
  return { ...memory, seeded };
}

/** Every projection and its dead letters, to prove a refused request changed nothing. */
async function snapshot(store: WorkflowStore) {
  const projections = await store.listProjections();
  const letters = await Promise.all(projections.map(async (p) => (await store.listProjectionDeadLetters({ projection: p.name, limit: 1000 })).items));
  return { projections, letters };
}

describe('projection pages', () => {
  it('the projections page lists each projection with its checkpoint, holder and lease, lag and dead letters', async () => {
    const { engine, seeded } = await fixture();
    const c = client(createDashboard({ engine }));
    const html = await (await c.get('/projections')).text();
    expect(html).toContain('<a href="/projections" class="here">Projections</a>');
    const rows = [...html.matchAll(/<tr data-projection="([^"]+)">(.*?)<\/tr>/g)].map(([, name, row]) => [name, textOf(row!).trim()]);
    expect(rows.map(([name]) => name)).toEqual(['orders', 'revenue', 'search']);
    const [orders, revenue, search] = rows.map(([, text]) => text);
    // Four events: orders is past the second, revenue past the last, search at the start.
    // An hour's lease, taken a moment ago.
    expect(orders).toMatch(new RegExp(`^orders ${seeded.ordersPosition} worker-a live runs out in (60\\.0 min|1\\.0 h) 2 [\\d.]+ m?s 3$`));
    expect(revenue).toMatch(/^revenue \d+ — none 0 — 0$/);
    expect(search).toMatch(/^search start of the feed worker-c expired 1\.0 h ago 4 \d.* 0$/);
    expect(html).toMatch(new RegExp(`<span class="mono" title="${seeded.ordersPosition}">${seeded.ordersPosition}</span>`));

    const empty = client(createDashboard({ engine: createEngine({ store: createMemoryStore(), workflows: [], logger: silentLogger }) }));
    expect(textOf(await (await empty.get('/projections')).text())).toContain('No projections in this store yet');
  });

  it('shortens long checkpoints in tables and keeps the whole in the title', () => {
    expect(shortPosition('12')).toBe('12');
    expect(shortPosition('0123456789abcdef')).toBe('0123456789abcdef');
    expect(shortPosition('1700000000000-0:1700000000999-7')).toBe('1700000…00999-7');
  });

  it("a projection's page shows its facts and dead letters, filtered by status and in cursor pages", async () => {
    const { engine, seeded } = await fixture(55);
    const c = client(createDashboard({ engine }));
    const page = textOf(await (await c.get('/projections/orders')).text());
    expect(page).toMatch(new RegExp(`Checkpoint ${seeded.ordersPosition} Holder worker-a Lease live runs out in (60\\.0 min|1\\.0 h) Token 1`));
    expect(page).toMatch(/Lag 2 events, the oldest recorded [\d.]+ m?s ago Dead letters 3/);
    expect(page).toMatch(/pdl-1 parked ChargeRequested #1 payment p-1 1 3 declined <img/);
    expect(page).toMatch(/pdl-3 redriven ChargeRequested #1 payment p-2 2 1 timeout/);
    const redriven = await (await c.get('/projections/orders?status=redriven')).text();
    expect([...redriven.matchAll(/<tr data-id="([^"]+)">/g)].map((m) => m[1])).toEqual(['pdl-3']);
    expect(redriven).toContain('<option value="redriven" selected>re-driven</option>');

    const seen: string[] = [];
    let path: string | undefined = '/projections/search?status=parked';
    let pages = 0;
    while (path !== undefined) {
      const html: string = await (await c.get(path)).text();
      pages += 1;
      seen.push(...[...html.matchAll(/<tr data-id="([^"]+)">/g)].map((m) => m[1]!));
      path = /<a href="([^"]+)" rel="next">/.exec(html)?.[1]?.replaceAll('&amp;', '&');
      if (path !== undefined) expect(path).toContain('status=parked');
    }
    expect(pages).toBe(2);
    expect(seen).toEqual(Array.from({ length: 55 }, (_, i) => `s-${String(i).padStart(3, '0')}`));
  });

  it('renders stored markup in errors as text', async () => {
    const { engine } = await fixture();
    const html = await (await client(createDashboard({ engine, authorize: () => true })).get('/projections/orders')).text();
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).toContain('declined &lt;img src=x onerror=&quot;window.__xss=1&quot;> &lt;/td>&lt;script>');
    const confirm = await (await client(createDashboard({ engine, authorize: () => true })).get('/projections/orders/dead-letters/pdl-1/skip')).text();
    expect(confirm).not.toContain('<img');
    expect(textOf(confirm)).toContain(HOSTILE_ERROR);
  });

  it('answers unknown projections and dead letters with 404, bad parameters with 400', async () => {
    const { engine } = await fixture();
    const c = client(createDashboard({ engine, authorize: () => true }));
    const cases: [string, number, string][] = [
      ['/projections/nope', 404, 'There is no projection nope.'],
      ['/projections/nope/reset', 404, 'There is no projection nope.'],
      ['/projections/orders/dead-letters/pdl-9/skip', 404, 'There is no dead letter pdl-9 of projection orders.'],
      ['/projections/orders/dead-letters', 404, 'There is no such page'],
      ['/projections/orders?status=lost', 400, 'status must be one of parked, redriven'],
      ['/projections/orders?after=garbage', 400, 'after'],
      ['/projections/orders/reset?position=garbage', 400, 'not a feed position of this store'],
      [`/projections/${'x'.repeat(600)}`, 400, 'at most 512 characters'],
    ];
    for (const [path, status, message] of cases) {
      const response = await c.get(path);
      const text = await response.text();
      expect([path, response.status]).toEqual([path, status]);
      expect(textOf(text)).toContain(message);
      expect(text).not.toMatch(/\bat .*\.ts:\d+/);
    }
  });
});

describe('projection actions', () => {
  it('re-drives a parked dead letter, and says so when there is no parked one', async () => {
    const { engine, store } = await fixture();
    const c = client(createDashboard({ engine, authorize: () => true }));
    const page = await (await c.get('/projections/orders')).text();
    // Only parked letters have a re-drive button; every letter has a link to confirm skipping it.
    expect(page).toContain('action="/projections/orders/dead-letters/pdl-1/redrive"');
    expect(page).not.toContain('action="/projections/orders/dead-letters/pdl-3/redrive"');
    expect(page).toContain('href="/projections/orders/dead-letters/pdl-3/skip"');
    const redriven = await c.post('/projections/orders/dead-letters/pdl-1/redrive', { return: '/projections/orders' });
    expect(redriven.status).toBe(303);
    expect(redriven.headers.get('location')).toBe('/projections/orders?notice=projection-redriven');
    expect(textOf(await (await c.get(redriven.headers.get('location')!)).text())).toContain("Re-driven: the projection's runner tries the event again.");
    expect((await store.listProjectionDeadLetters({ projection: 'orders', status: 'redriven' })).items.map((l) => l.id)).toEqual(['pdl-1', 'pdl-3']);
    const again = await c.post('/projections/orders/dead-letters/pdl-1/redrive');
    expect(textOf(await (await c.get(again.headers.get('location')!)).text())).toContain('Nothing re-driven: there is no parked dead letter by that id');
  });

  it('skips a dead letter only from its confirmation page, which shows what it holds', async () => {
    const { engine, store } = await fixture();
    const c = client(createDashboard({ engine, authorize: () => true }));
    const confirm = await c.get('/projections/orders/dead-letters/pdl-2/skip');
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    expect(textOf(html)).toMatch(/Skip a dead letter of orders \? Dead letter pdl-2 Event ChargeRequested #1 payment p-2 Position \d+ Attempts 5 Last error read model down/);
    expect(textOf(html)).toContain('Skipping deletes this dead letter: its event is never handed to the projection again');
    expect(html).toMatch(/<form class="inline" method="post" action="\/projections\/orders\/dead-letters\/pdl-2\/skip">.*<input type="hidden" name="confirm" value="yes"\/>.*Skip it<\/button><\/form>/);

    const before = await snapshot(store);
    const unconfirmed = await c.post('/projections/orders/dead-letters/pdl-2/skip');
    expect(unconfirmed.status).toBe(400);
    expect(textOf(await unconfirmed.text())).toContain('Skipping a dead letter needs its confirmation');
    expect(await snapshot(store)).toEqual(before);

    const skipped = await c.post('/projections/orders/dead-letters/pdl-2/skip', { confirm: 'yes', return: '/projections/orders' });
    expect(skipped.headers.get('location')).toBe('/projections/orders?notice=skipped');
    expect((await store.listProjectionDeadLetters({ projection: 'orders' })).items.map((l) => l.id)).toEqual(['pdl-1', 'pdl-3']);
    const gone = await c.post('/projections/orders/dead-letters/pdl-2/skip', { confirm: 'yes' });
    expect(textOf(await (await c.get(gone.headers.get('location')!)).text())).toContain('Nothing skipped: there is no dead letter by that id.');
  });

  it('resets only from its confirmation page, which says whether it rebuilds or resumes and warns about the read model', async () => {
    const { engine, store, seeded } = await fixture();
    const c = client(createDashboard({ engine, authorize: () => true }));
    const form = await (await c.get('/projections/orders')).text();
    expect(form).toContain('<form class="filters" method="get" action="/projections/orders/reset" id="reset-form">');

    const rebuild = textOf(await (await c.get('/projections/orders/reset?position=&keep=')).text());
    expect(rebuild).toContain(`Rebuild orders ? Checkpoint now ${seeded.ordersPosition} After the reset the start of the feed: every event is handed to the projection again Dead letters its 3 dead letters are deleted`);
    expect(rebuild).toContain('(worker-a): it stops at its next write and resumes from the new checkpoint');
    expect(rebuild).toContain('Clear the read model first unless the projection is idempotent');
    expect(rebuild).toContain('Rebuild from the start');
    const to = seeded.events[2]!.position;
    const resume = await (await c.get(`/projections/orders/reset?position=${to}&keep=yes`)).text();
    expect(textOf(resume)).toContain(`Reset orders ? Checkpoint now ${seeded.ordersPosition} After the reset resumes after ${to} Dead letters its 3 dead letters are kept`);
    expect(resume).toContain(`<input type="hidden" name="position" value="${to}"/>`);
    expect(resume).toContain('<input type="hidden" name="keep" value="yes"/>');

    // Refused without the confirmation, with a position the store did not write, or for a name it does not know: nothing written.
    const before = await snapshot(store);
    const refusals: [Record<string, string>, string, number, string][] = [
      [{}, '/projections/orders/reset', 400, 'Resetting a projection needs its confirmation'],
      [{ confirm: 'yes', position: 'garbage' }, '/projections/orders/reset', 400, 'not a feed position of this store'],
      [{ confirm: 'yes' }, '/projections/nope/reset', 404, 'There is no projection nope.'],
    ];
    for (const [fields, path, status, message] of refusals) {
      const response = await c.post(path, fields);
      expect([path, response.status]).toEqual([path, status]);
      expect(textOf(await response.text())).toContain(message);
    }
    expect(await snapshot(store)).toEqual(before);

    const kept = await c.post('/projections/orders/reset', { confirm: 'yes', position: to, keep: 'yes', return: '/projections/orders' });
    expect(kept.headers.get('location')).toBe('/projections/orders?notice=projection-reset');
    expect(textOf(await (await c.get(kept.headers.get('location')!)).text())).toContain('Reset: the projection resumes from its new checkpoint');
    const [orders] = await store.listProjections();
    expect(orders).toMatchObject({ name: 'orders', position: to, token: 2, deadLetters: 3 });
    expect(orders).not.toHaveProperty('owner');

    await c.post('/projections/orders/reset', { confirm: 'yes' });
    const [rebuilt] = await store.listProjections();
    expect(rebuilt).toMatchObject({ name: 'orders', token: 3, deadLetters: 0 });
    expect(rebuilt).not.toHaveProperty('position');
  });

  it('asks authorize with the projection actions as their own types', async () => {
    const { engine, store, seeded } = await fixture();
    const authorize = vi.fn((_request: Request, action: DashboardAction) => action.type === 'projection-redrive');
    const c = client(createDashboard({ engine, authorize }));
    await c.get('/projections/orders');
    const to = seeded.events[0]!.position;
    expect((await c.post('/projections/orders/dead-letters/pdl-1/redrive')).status).toBe(303);
    expect(authorize).toHaveBeenLastCalledWith(expect.any(Request), { type: 'projection-redrive', projection: 'orders', id: 'pdl-1' });
    const before = await snapshot(store);
    expect((await c.post('/projections/orders/dead-letters/pdl-2/skip', { confirm: 'yes' })).status).toBe(403);
    expect(authorize).toHaveBeenLastCalledWith(expect.any(Request), { type: 'projection-skip', projection: 'orders', id: 'pdl-2' });
    expect((await c.post('/projections/orders/reset', { confirm: 'yes', position: ` ${to} `, keep: 'yes' })).status).toBe(403);
    expect(authorize).toHaveBeenLastCalledWith(expect.any(Request), { type: 'projection-reset', projection: 'orders', position: to, keepDeadLetters: true });
    expect((await c.post('/projections/orders/reset', { confirm: 'yes' })).status).toBe(403);
    expect(authorize).toHaveBeenLastCalledWith(expect.any(Request), { type: 'projection-reset', projection: 'orders', keepDeadLetters: false });
    // An unconfirmed request is refused before authorize is asked.
    authorize.mockClear();
    expect((await c.post('/projections/orders/reset')).status).toBe(400);
    expect(authorize).not.toHaveBeenCalled();
    expect(await snapshot(store)).toEqual(before);
  });

  it('read-only, shows no reset form, re-drive or skip controls, and refuses the actions', async () => {
    const { engine, store } = await fixture();
    const c = client(createDashboard({ engine }));
    const page = await (await c.get('/projections/orders')).text();
    expect(page).not.toContain('method="post"');
    expect(page).not.toContain('reset-form');
    expect(page).not.toContain('/skip"');
    const confirm = await (await c.get('/projections/orders/reset')).text();
    expect(confirm).not.toContain('method="post"');
    expect(textOf(confirm)).toContain('This dashboard is read-only');
    const before = await snapshot(store);
    for (const path of ['/projections/orders/dead-letters/pdl-1/redrive', '/projections/orders/dead-letters/pdl-1/skip', '/projections/orders/reset']) {
      const response = await c.post(path, { csrf: 'a'.repeat(43), confirm: 'yes' });
      expect(response.status).toBe(403);
    }
    expect(await snapshot(store)).toEqual(before);
  });
});
