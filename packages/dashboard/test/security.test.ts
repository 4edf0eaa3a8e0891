// Requests without a browser: every action is refused without an authorize hook, from another
// site, without the page's CSRF token or with another one, and when authorize says no (or throws);
// nothing is written then. Every response carries the security headers.
import { describe, expect, it, vi } from 'vitest';
import { createDashboard, type DashboardAction } from '../src/index.js';
import { CONTENT_SECURITY_POLICY } from '../src/security.js';
import { client, ORIGIN } from './support/client.js';
import { memoryFixture } from './support/memory.js';

describe('security', () => {
  it('sends a strict CSP, nosniff, same-origin referrers and no framing on pages, assets and refusals', async () => {
    const { engine } = await memoryFixture();
    const c = client(createDashboard({ engine }));
    const page = await c.get('/');
    const css = /href="(\/assets\/[^"]+)"/.exec(await page.text())?.[1];
    const responses = [page, await c.get(css!), await c.get('/nowhere'), await c.post('/types/payment/pause')];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 404, 403]);
    for (const response of responses) {
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('same-origin');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
    expect(CONTENT_SECURITY_POLICY).toBe("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  });

  it('sets a SameSite=Strict token cookie once, Secure with the __Host- prefix over https', async () => {
    const { engine } = await memoryFixture();
    const dashboard = createDashboard({ engine, basePath: '/ops' });
    const plain = await dashboard(new Request('http://dash.test/ops'));
    const cookie = plain.headers.getSetCookie()[0] ?? '';
    expect(cookie).toMatch(/^ironflow-csrf=[A-Za-z0-9_-]{43}; Path=\/ops; SameSite=Strict; HttpOnly$/);
    const again = await dashboard(new Request('http://dash.test/ops', { headers: { cookie: cookie.split(';')[0]! } }));
    expect(again.headers.getSetCookie()).toEqual([]);
    const secure = await dashboard(new Request('https://dash.test/ops'));
    expect(secure.headers.getSetCookie()[0]).toMatch(/^__Host-ironflow-csrf=[A-Za-z0-9_-]{43}; Path=\/; SameSite=Strict; HttpOnly; Secure$/);
  });

  it('is read-only without authorize: every action answers 403 and changes nothing', async () => {
    const { engine, deadId } = await memoryFixture();
    const c = client(createDashboard({ engine }));
    const page = await c.get('/dead-letters');
    expect(await page.text()).not.toContain('method="post"');
    for (const path of ['/types/payment/pause', '/instances/payment/p-3/pause', '/instances/payment/p-3/cancel', `/dead-letters/effect/${deadId}/redrive`]) {
      const response = await c.post(path, { csrf: 'a'.repeat(43), reason: 'test' });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('This dashboard is read-only: actions need an authorize hook');
    }
    expect(await engine.listPaused()).toEqual([]);
    expect(await engine.deadLetters.count({ kind: 'effect' })).toBe(1);
    expect((await engine.pageInstances({ status: 'cancelled' })).items).toEqual([]);
  });

  it('refuses a form from another site or origin, whatever its token', async () => {
    const { engine } = await memoryFixture();
    const dashboard = createDashboard({ engine, authorize: () => true });
    const c = client(dashboard);
    await c.get('/paused');
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { 'sec-fetch-site': 'none' }]) {
      const response = await c.post('/types/payment/pause', {}, headers);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('came from another site');
    }
    // A browser that sends only Origin: it must name this host.
    for (const origin of ['http://evil.test', 'null', `${ORIGIN}.evil.test`, ORIGIN.replace('http:', 'ftp:')]) {
      const response = await dashboard(
        new Request(`${ORIGIN}/types/payment/pause`, { method: 'POST', body: new URLSearchParams({ csrf: c.token! }), headers: { cookie: c.cookie!, origin, 'content-type': 'application/x-www-form-urlencoded' } }),
      );
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('came from another origin');
    }
    expect(await engine.listPaused()).toEqual([]);
  });

  it('takes a same-origin form whether the browser says so with Sec-Fetch-Site or with Origin, also through a TLS-ending proxy', async () => {
    const { engine } = await memoryFixture();
    const dashboard = createDashboard({ engine, authorize: () => true });
    const c = client(dashboard);
    await c.get('/paused');
    const post = (headers: Record<string, string>) =>
      dashboard(new Request(`${ORIGIN}/types/payment/pause`, { method: 'POST', body: new URLSearchParams({ csrf: c.token! }), headers: { cookie: c.cookie!, 'content-type': 'application/x-www-form-urlencoded', ...headers } }));
    // Sec-Fetch-Site decides when present, whatever a proxy made of the host.
    expect((await post({ 'sec-fetch-site': 'same-origin', origin: 'https://ops.example.com' })).status).toBe(303);
    expect((await post({ origin: ORIGIN })).status).toBe(303);
    expect((await post({ origin: ORIGIN.replace('http:', 'https:') })).status).toBe(303);
    expect((await post({})).status).toBe(303);
  });

  it("refuses a form without the CSRF token, with another browser's, or with no cookie", async () => {
    const { engine } = await memoryFixture();
    const dashboard = createDashboard({ engine, authorize: () => true });
    const c = client(dashboard);
    await c.get('/paused');
    const other = client(dashboard);
    await other.get('/paused');
    const cases = [
      await c.post('/types/payment/pause', { csrf: '' }),
      await c.post('/types/payment/pause', { csrf: other.token! }),
      await c.post('/types/payment/pause', { csrf: `${c.token!.slice(0, -1)}x` }),
      await dashboard(new Request(`${ORIGIN}/types/payment/pause`, { method: 'POST', body: new URLSearchParams({ csrf: c.token! }), headers: { 'sec-fetch-site': 'same-origin' } })),
    ];
    for (const response of cases) {
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('CSRF token is missing or does not match');
    }
    expect(await engine.listPaused()).toEqual([]);
    // The same request with the right token goes through.
    const ok = await c.post('/types/payment/pause');
    expect(ok.status).toBe(303);
    expect(await engine.listPaused()).toEqual([expect.objectContaining({ type: 'payment' })]);
  });

  it('asks authorize with the request and the action, after the other checks, and refuses when it says no or throws', async () => {
    const { engine, deadId } = await memoryFixture();
    const authorize = vi.fn((request: Request, action: DashboardAction) => request.headers.get('x-role') === 'admin' && action.type !== 'cancel');
    const errors: unknown[] = [];
    const c = client(createDashboard({ engine, authorize, onError: (error) => errors.push(error) }));
    await c.get('/');
    expect((await c.post(`/dead-letters/effect/${deadId}/redrive`, { csrf: 'forged' })).status).toBe(403);
    expect(authorize).not.toHaveBeenCalled();

    const refused = await c.post(`/dead-letters/effect/${deadId}/redrive`);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('not authorized');
    expect(authorize).toHaveBeenLastCalledWith(expect.any(Request), { type: 'redrive', kind: 'effect', id: deadId });

    const cancel = await c.post('/instances/payment/p-3/cancel', { reason: 'customer asked' }, { 'x-role': 'admin' });
    expect(cancel.status).toBe(403);
    expect(authorize).toHaveBeenLastCalledWith(expect.any(Request), { type: 'cancel', workflowType: 'payment', workflowId: 'p-3', reason: 'customer asked' });
    expect(await engine.deadLetters.count({ kind: 'effect' })).toBe(1);
    expect((await engine.pageInstances({ status: 'cancelled' })).items).toEqual([]);

    const allowed = await c.post(`/dead-letters/effect/${deadId}/redrive`, {}, { 'x-role': 'admin' });
    expect(allowed.status).toBe(303);
    expect(await engine.deadLetters.count({ kind: 'effect' })).toBe(0);

    const throwing = client(createDashboard({ engine, authorize: () => Promise.reject(new Error('session store down')), onError: (error) => errors.push(error) }));
    await throwing.get('/');
    const failed = await throwing.post('/types/payment/pause');
    expect(failed.status).toBe(403);
    expect(await failed.text()).not.toContain('session store down');
    expect(errors).toEqual([new Error('session store down')]);
    expect(await engine.listPaused()).toEqual([]);
  });

  it('redirects only inside the dashboard: a foreign return target falls back to the default page', async () => {
    const { engine } = await memoryFixture();
    const c = client(createDashboard({ engine, basePath: '/ops', authorize: () => true }));
    await c.get('/ops/paused');
    const cases: [string, string][] = [
      ['//evil.test/x', '/ops/paused?notice=paused'],
      ['/\\evil.test', '/ops/paused?notice=already-paused'],
      ['https://evil.test/', '/ops/paused?notice=already-paused'],
      ['/elsewhere', '/ops/paused?notice=already-paused'],
      ['/ops/instances?type=payment#top', '/ops/instances?type=payment&notice=already-paused'],
    ];
    for (const [target, location] of cases) {
      const response = await c.post('/ops/types/payment/pause', { return: target });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe(location);
    }
  });
});
