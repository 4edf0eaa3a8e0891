// The dashboard in headless Chromium against a real PostgreSQL store and a started engine whose
// effect handler the test controls: list and open instances, re-drive a dead letter and watch it
// complete, pause and resume a workflow type, stored XSS payloads rendered inert, projections
// (re-drive, skip, and a rebuild through its confirmation), a read-only dashboard, and a forged
// cross-site form refused. Each page is screenshotted into test-artifacts/; with
// IRONFLOW_UPDATE_SCREENSHOTS=1 the canonical ones are copied to docs/images/dashboard/.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createEngine, silentLogger, type Engine } from '@ironflow/runtime';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../src/index.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';
import { eventually } from './support/eventually.js';
import { payment, paymentRegistration, type Gateway } from './support/payment.js';
import { HOSTILE_ERROR, seedProjections } from './support/projections.js';
import { openPostgres, postgresUrl, type PostgresTestStore } from './support/postgres.js';
import { serve, type Served } from './support/server.js';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const DOCS_IMAGES = fileURLToPath(new URL('../../../docs/images/dashboard/', import.meta.url));
const UPDATE_DOCS = process.env.IRONFLOW_UPDATE_SCREENSHOTS === '1';

/** The session cookie the host app's own login would set; `authorize` accepts only it. */
const OPERATOR = { name: 'operator-session', value: 'alice' };

const runs = chromiumAvailable() && postgresUrl !== undefined;

describe.skipIf(!runs)('the dashboard in headless Chromium on PostgreSQL', () => {
  let pg: PostgresTestStore;
  let engine: Engine;
  let served: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const gateway: Gateway = { failing: new Map() };
  const dialogs: string[] = [];

  /** Saves a full-page screenshot as a test artifact (and, when asked, as the docs' picture). */
  async function shot(name: string): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = `${ARTIFACTS}${name}.png`;
    await page.screenshot({ path, fullPage: true });
    if (UPDATE_DOCS) {
      mkdirSync(DOCS_IMAGES, { recursive: true });
      copyFileSync(path, `${DOCS_IMAGES}${name}.png`);
    }
  }

  /** Opens a dashboard path and returns the response's status. */
  async function open(path: string): Promise<number> {
    const response = await page.goto(`${served.origin}${path}`);
    return response?.status() ?? 0;
  }

  /** Reloads `path` until `selector`'s text contains `text`. */
  async function reloadUntil(path: string, selector: string, text: string): Promise<void> {
    await eventually(`${path} shows ${text} in ${selector}`, async () => {
      await open(path);
      return ((await page.locator(selector).first().textContent()) ?? '').includes(text);
    });
  }

  /** Clicks a form's button and waits for the redirect back with its notice. */
  async function submit(button: ReturnType<Page['locator']>, notice: string): Promise<void> {
    await Promise.all([page.waitForURL((url) => url.searchParams.get('notice') === notice), button.click()]);
  }

  beforeAll(async () => {
    pg = await openPostgres(postgresUrl!);
    engine = createEngine({ store: pg.store, workflows: [paymentRegistration(gateway)], logger: silentLogger, effects: { pollIntervalMs: 50 }, timers: { pollIntervalMs: 50 } });
    engine.start();
    const dashboard = createDashboard({
      engine,
      workflows: [payment],
      // What an app puts here: its own session check (here a cookie its login would set).
      authorize: (request) => (request.headers.get('cookie') ?? '').split(/;\s*/).includes(`${OPERATOR.name}=${OPERATOR.value}`),
    });
    served = await serve(dashboard);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies([{ ...OPERATOR, url: served.origin }]);
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    await engine?.stop();
    await pg?.close();
  });

  it('lists instances, searches by id prefix and opens one: state, timeline, effects and timers', async () => {
    for (const [paymentId, amount] of [
      ['p-1001', 1999],
      ['p-1002', 4497],
      ['p-1003', 5997],
    ] as const) {
      await engine.execute(payment, { type: 'Charge', paymentId, amount, note: 'web shop' });
    }
    for (const id of ['p-1001', 'p-1002', 'p-1003']) await engine.waitFor(payment, id, { timeoutMs: 120_000 });

    expect(await open('/instances')).toBe(200);
    expect(await page.locator('#instances tbody tr').count()).toBe(3);
    await shot('instances');

    await page.selectOption('select[name=type]', 'payment');
    await page.fill('input[name=id]', 'p-100');
    await Promise.all([page.waitForURL(/id=p-100/), page.getByRole('button', { name: 'Search' }).click()]);
    expect(await page.locator('#instances tbody tr').count()).toBe(3);
    await page.fill('input[name=id]', 'p-1002');
    await Promise.all([page.waitForURL(/id=p-1002/), page.getByRole('button', { name: 'Search' }).click()]);
    expect(await page.locator('#instances tbody td.mono a').allTextContents()).toEqual(['p-1002']);

    await Promise.all([page.waitForURL(/\/instances\/payment\/p-1002$/), page.getByRole('link', { name: 'p-1002' }).click()]);
    expect(await page.locator('#instance-status').textContent()).toBe('completed');
    expect(JSON.parse((await page.locator('#state pre').textContent()) ?? '')).toEqual({ status: 'paid', amount: 4497, note: 'web shop', receipt: 'r-p-1002' });
    expect(await page.locator('#events tbody tr td:nth-child(2)').allTextContents()).toEqual(['ChargeRequested', 'Charged']);
    // The machine drawn on the server: where it went, where it is, the transitions it took.
    expect(await page.locator('#path tbody tr td:nth-child(4)').allTextContents()).toEqual(['Charge', 'Charged']);
    expect(await page.locator('#machine g.node.current').getAttribute('data-state')).toBe('Paid');
    expect(await page.locator('#machine g.node.visited').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-state')))).toEqual(['New', 'Charging']);
    expect(await page.locator('#machine g.edge.taken').evaluateAll((edges) => edges.map((e) => `${e.getAttribute('data-from')}>${e.getAttribute('data-to')}`))).toEqual(['New>Charging', 'Charging>Paid']);
    expect(await page.locator('#mermaid').textContent()).toContain('class Paid current');
    const effect = page.locator('#effects tbody tr');
    expect(await effect.count()).toBe(1);
    expect(await effect.locator('.badge').textContent()).toBe('done');
    expect(await effect.locator('td.num').textContent()).toBe('1');
    expect(await page.locator('#timers tbody tr .badge').textContent()).toBe('cancelled');
    await shot('instance');
  });

  it('re-drives a dead letter from the dead-letter page and watches its instance complete', async () => {
    gateway.failing.set('p-2001', 'card declined: issuer unavailable');
    gateway.failing.set('p-2002', 'insufficient funds');
    await engine.execute(payment, { type: 'Charge', paymentId: 'p-2001', amount: 2500, note: 'web shop' });
    await engine.execute(payment, { type: 'Charge', paymentId: 'p-2002', amount: 9900, note: 'web shop' });
    await eventually('both charges are dead letters', async () => (await engine.deadLetters.count({ kind: 'effect' })) === 2);

    expect(await open('/dead-letters')).toBe(200);
    const row = page.locator('#dead-letters tbody tr', { hasText: 'p-2001' });
    expect(await row.locator('.error-text').textContent()).toContain('card declined: issuer unavailable');
    expect(await page.locator('#dead-total').textContent()).toMatch(/^2 dead effects/);
    await shot('dead-letters');

    gateway.failing.delete('p-2001');
    await submit(row.getByRole('button', { name: 'Re-drive' }), 'redriven');
    expect(await page.locator('.notice').textContent()).toContain('Re-driven');
    expect(await page.locator('#dead-letters tbody tr', { hasText: 'p-2001' }).count()).toBe(0);

    // Watch it complete, as an operator would: the instance page, reloaded.
    await reloadUntil('/instances/payment/p-2001', '#instance-status', 'completed');
    expect(await page.locator('#effects tbody tr .badge').textContent()).toBe('done');
    expect(await page.locator('#state pre').textContent()).toContain('"paid"');
  });

  it('pauses a workflow type, holds its new work, and resumes it', async () => {
    expect(await open('/paused')).toBe(200);
    expect(await page.locator('#nothing-paused').count()).toBe(1);
    await submit(page.getByRole('button', { name: 'Pause payment' }), 'paused');
    expect(await page.locator('#paused tbody tr').textContent()).toContain('the whole type');

    await engine.execute(payment, { type: 'Charge', paymentId: 'p-3001', amount: 1200, note: 'web shop' });
    // The backlog counts the charge as held by the pause: it stays pending, unclaimed.
    await reloadUntil('/', '#backlog tbody tr:has-text("effect") td:nth-child(6)', '1');
    expect(await page.locator('#types tbody tr', { hasText: 'payment' }).locator('.badge').textContent()).toBe('paused');
    await open('/instances/payment/p-3001');
    expect(await page.locator('#instance-status').textContent()).toBe('active');
    expect(await page.locator('#effects tbody tr .badge').textContent()).toBe('pending');
    expect(await page.locator('dl.facts').textContent()).toContain('its whole workflow type is paused');
    await open('/paused');
    await shot('paused');

    await submit(page.getByRole('button', { name: 'Resume payment' }), 'resumed');
    expect(await page.locator('#nothing-paused').count()).toBe(1);
    await reloadUntil('/instances/payment/p-3001', '#instance-status', 'completed');

    await open('/');
    await shot('overview');
    expect(await page.locator('#throughput tbody tr', { hasText: 'payment' }).count()).toBe(1);
    expect(await page.locator('#dead-per-type tbody tr', { hasText: 'payment' }).locator('td.num').first().textContent()).toBe('1');
  });

  it('renders stored XSS payloads in ids, inputs, events, effects and errors as inert text', async () => {
    const img = `<img src=x onerror="window.__xss=1;alert('img')">`;
    const script = `</script><script>window.__xss=2;alert('script')</script>`;
    const id = `x-<img src=x onerror=alert(3)>`;
    gateway.failing.set(id, `declined ${img}`);
    await engine.execute(payment, { type: 'Charge', paymentId: id, amount: 1, note: `${img} ${script}` });
    await eventually('the charge is a dead letter', async () => (await engine.deadLetters.count({ kind: 'effect', workflowId: id })) === 1);

    const main = await page.goto(`${served.origin}/instances?type=payment&id=x-`);
    expect(main?.headers()['content-security-policy']).toContain("default-src 'none'");
    await Promise.all([page.waitForURL(/\/instances\/payment\/x-/), page.getByRole('link', { name: id }).click()]);
    expect(await page.locator('#instance-id').textContent()).toBe(id);
    expect(JSON.parse((await page.locator('#state pre').textContent()) ?? '').note).toBe(`${img} ${script}`);
    await page.locator('#effects details').first().click();
    expect(await page.locator('#effects .error-text').textContent()).toContain(`declined ${img}`);
    await open('/dead-letters');
    expect(await page.locator('#dead-letters tbody tr', { hasText: id }).locator('.error-text').textContent()).toContain(img);
    await open('/');

    expect(dialogs).toEqual([]);
    expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
    for (const path of ['/', '/dead-letters', `/instances/payment/${encodeURIComponent(id)}`]) {
      await open(path);
      expect(await page.locator('img, script').count()).toBe(0);
    }
  });

  it('shows projections with their lag, re-drives and skips a dead letter, and rebuilds one after its confirmation', async () => {
    for (const paymentId of ['p-5001', 'p-5002']) await engine.execute(payment, { type: 'Charge', paymentId, amount: 700, note: 'web shop' });
    for (const id of ['p-5001', 'p-5002']) await engine.waitFor(payment, id, { timeoutMs: 120_000 });
    await seedProjections(pg.store, { minEvents: 4 });

    expect(await open('/projections')).toBe(200);
    expect(await page.locator('#projections tbody tr').count()).toBe(3);
    const orders = page.locator('#projections tr[data-projection="orders"]');
    expect(await orders.locator('.badge').textContent()).toBe('live');
    expect(await orders.locator('td.alarm').textContent()).toBe('3');
    expect(await page.locator('#projections tr[data-projection="search"] .badge').textContent()).toBe('expired');
    await shot('projections');

    await Promise.all([page.waitForURL(/\/projections\/orders$/), page.getByRole('link', { name: 'orders' }).click()]);
    expect(await page.locator('#holder').textContent()).toBe('worker-a');
    expect(await page.locator('#projection-dead-letters tbody tr').count()).toBe(3);
    expect(await page.locator('tr[data-id="pdl-1"] .error-text').textContent()).toBe(HOSTILE_ERROR);
    await shot('projection');

    await submit(page.locator('tr[data-id="pdl-1"]').getByRole('button', { name: 'Re-drive' }), 'projection-redriven');
    expect(await page.locator('tr[data-id="pdl-1"] .badge').textContent()).toBe('redriven');

    await Promise.all([page.waitForURL(/\/dead-letters\/pdl-2\/skip$/), page.locator('tr[data-id="pdl-2"]').getByRole('link', { name: 'Skip…' }).click()]);
    expect(await page.locator('#consequence').textContent()).toContain('its event is never handed to the projection again');
    await submit(page.getByRole('button', { name: 'Skip it' }), 'skipped');
    expect(await page.locator('tr[data-id="pdl-2"]').count()).toBe(0);

    await Promise.all([page.waitForURL(/\/projections\/orders\/reset\?/), page.getByRole('button', { name: 'Reset…' }).click()]);
    expect(await page.locator('#reset-to').textContent()).toContain('the start of the feed');
    expect(await page.locator('#read-model-warning').textContent()).toContain('Clear the read model first');
    await shot('projection-reset');
    await submit(page.getByRole('button', { name: 'Rebuild from the start' }), 'projection-reset');
    expect(await page.locator('#checkpoint').textContent()).toBe('start of the feed');
    expect(await page.locator('#holder').textContent()).toBe('none');
    expect(await page.locator('#dead-letter-count').textContent()).toBe('0');
    const [rebuilt] = await pg.store.listProjections();
    expect(rebuilt).toMatchObject({ name: 'orders', deadLetters: 0 });
    expect(rebuilt).not.toHaveProperty('position');

    expect(dialogs).toEqual([]);
    expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
  });

  it('without authorize, shows no actions and refuses a POST', async () => {
    const readOnly = await serve(createDashboard({ engine }));
    try {
      const other = await browser.newPage();
      await other.goto(`${readOnly.origin}/dead-letters`);
      expect(await other.locator('.mode').textContent()).toBe('read-only');
      expect(await other.locator('#dead-letters tbody tr').count()).toBeGreaterThan(0);
      expect(await other.locator('form[method=post]').count()).toBe(0);
      const response = await other.request.post(`${readOnly.origin}/types/payment/pause`, { form: { csrf: 'x' } });
      expect(response.status()).toBe(403);
      expect(await response.text()).toContain('read-only');
      await other.close();
    } finally {
      await readOnly.close();
    }
    expect(await engine.listPaused()).toEqual([]);
  });

  it('refuses a form another site makes the browser send, even with the operator logged in', async () => {
    // The attacker's page: another origin on this machine, with a form aimed at the dashboard.
    const attacker = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<form method="post" action="${served.origin}/types/payment/pause"><input name="csrf" value="guessed"><button>win a prize</button></form>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    try {
      await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
      const [response] = await Promise.all([page.waitForResponse((r) => r.url().startsWith(served.origin)), page.getByRole('button', { name: 'win a prize' }).click()]);
      expect(response.status()).toBe(403);
      expect(await page.locator('#error-message').textContent()).toContain('another site');
    } finally {
      attacker.closeAllConnections();
      await new Promise((resolve) => attacker.close(resolve));
    }
    expect(await engine.listPaused()).toEqual([]);
  });
});
