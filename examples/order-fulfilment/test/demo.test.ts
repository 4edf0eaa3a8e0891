// The demo as a newcomer runs it, on the memory store, in a child process: it exits 0 with every
// order as its scenario says, and Ctrl-C stops it cleanly. Nothing here depends on how fast the
// machine is: the demo's deadline fires because its gateway waits for it, and leases are 30 s.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const exampleDir = fileURLToPath(new URL('..', import.meta.url));
/** A generous bound for a loaded machine; the demo itself needs about 4 s. */
const BUDGET_MS = 300_000;

/** Runs src/demo.ts with `args`; `onOutput` sees stdout as it grows. */
function runDemo(args: string[], onOutput: (stdout: string, signal: (name: NodeJS.Signals) => void) => void = () => {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@ironflow/source', 'src/demo.ts', ...args], { cwd: exampleDir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onOutput(stdout, (name) => child.kill(name));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Looks at the demo's dashboard as an operator would, and re-drives o-1006's gift card from the dead-letter page. */
async function useDashboard(url: string): Promise<void> {
  const overview = await fetch(url);
  expect(overview.status).toBe(200);
  const cookie = overview.headers.getSetCookie()[0]!.split(';')[0]!;
  expect(await overview.text()).toContain('Ironflow demo');
  // The order's declared machine, drawn with the path it took.
  expect(await (await fetch(`${url}instances/order/o-1001`)).text()).toContain('<g class="node current terminal" data-state="Delivered">');
  const deadLetters = await (await fetch(`${url}dead-letters`, { headers: { cookie } })).text();
  expect(deadLetters).toContain('2 dead effects.');
  const row = deadLetters.slice(deadLetters.indexOf('o-1006'));
  const action = /<form class="inline" method="post" action="([^"]+\/redrive)"><input type="hidden" name="csrf" value="([^"]+)"/.exec(row);
  expect(action).not.toBeNull();
  const redrive = await fetch(new URL(action![1]!, url), {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ csrf: action![2]! }),
    headers: { cookie, origin: new URL(url).origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(redrive.status).toBe(303);
  expect(redrive.headers.get('location')).toBe('/dead-letters?kind=effect&notice=redriven');
}

describe('the demo', () => {
  it(
    'on the memory store, exits 0 and every order ends as its scenario says',
    async () => {
      const { code, stdout, stderr } = await runDemo(['--memory']);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout.split('\n')[0]).toMatch(/^Ironflow order-fulfilment demo: 13 orders/);
      expect(stdout).toContain('instances  22 completed, 0 active (orders and their shipments)');
      expect(stdout).toContain('orders     8 delivered, 5 cancelled');
      expect(stdout).toContain('shipments  8 delivered, 1 refused');
      // The deadline cancels the charge its issuer never answered: nothing to refund. (On a machine
      // so slow that the deadline beats the stock reservation, there is no charge to cancel.)
      expect(stdout).toMatch(/✓ o-1005 .* cancelled: payment-timeout, stock released(, charge cancelled)?\n/);
      expect(stdout).toMatch(/o-1005 {2}⏰ payment-deadline +→ OrderCancelled\(payment-timeout\)(, ChargeCancelled .*⊘ ChargePayment)?/);
      expect(stdout).not.toMatch(/o-1005 .*RefundPayment/);
      expect(stdout).toMatch(/✓ o-1006 .* gift card failed/);
      // The shipment child is started on payment, and its ending comes back to the order.
      expect(stdout).toMatch(/o-1001 {2}ChargePayment done .* ⇒ ▶ shipment/);
      expect(stdout).toMatch(/o-1001 {2}↩ ShipmentDelivered +→ OrderDelivered +✓ settled/);
      expect(stdout).toMatch(/✓ o-1012 .* cancelled: shipment-failed, stock released, charge refunded/);
      expect(stdout).toMatch(/this run {3}\d+ retries, \d+ handler\(s\) cancelled while running, \d+ leases lost/);
      expect(stdout).toContain('dead letters now: 2');
      // The read model the projection kept agrees with every order's instance (the demo checks
      // each order's status and revenue, and reports any difference as a problem).
      expect(stdout).toContain('Read model (projection orders-by-status, in memory)');
      expect(stdout).toContain('  orders     13: 8 delivered, 5 cancelled');
      expect(stdout).toContain('  revenue    $237.87 kept from 8 paid order(s)');
      expect(stdout).toContain('  projection lag 0 events, 0 dead letters');
      expect(stdout).toContain('Every order ended as its scenario says.');
    },
    BUDGET_MS,
  );

  it(
    'with --metrics, serves Prometheus metrics while it runs and prints a scrape that agrees with its summary',
    async () => {
      const { code, stdout, stderr } = await runDemo(['--memory', '--metrics', '0']);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Serving metrics at http:\/\/127\.0\.0\.1:\d+\/metrics while the demo runs$/m);
      expect(stdout).toContain('instances  22 completed, 0 active');
      expect(stdout).toMatch(/^ {2}ironflow_instances_completed_total\{ironflow_workflow_type="order",[^}]*\} 13$/m);
      expect(stdout).toMatch(/^ {2}ironflow_instances_completed_total\{ironflow_workflow_type="shipment",[^}]*\} 9$/m);
      expect(stdout).toMatch(/^ {2}ironflow_dead_letters_total\{ironflow_workflow_type="order",ironflow_work_kind="effect",[^}]*\} 1$/m);
      expect(stdout).toMatch(/^ {2}ironflow_backlog\{ironflow_workflow_type="order",ironflow_work_kind="effect",ironflow_work_status="dead",[^}]*\} 1$/m);
      expect(stdout).not.toMatch(/_bucket\{/);
    },
    BUDGET_MS,
  );

  it(
    'with --dashboard, serves the dashboard while it runs and after its summary until Ctrl-C, and re-drives a dead letter from it',
    async () => {
      let url: string | undefined;
      let checked: Promise<void> | undefined;
      const { code, stdout, stderr } = await runDemo(['--memory', '--dashboard', '0'], (out, signal) => {
        url ??= /^Serving the dashboard at (http:\/\/127\.0\.0\.1:\d+\/) while the demo runs$/m.exec(out)?.[1];
        if (checked === undefined && url !== undefined && out.includes('Ctrl-C to stop.')) checked = useDashboard(url).finally(() => signal('SIGINT'));
      });
      expect(url).toBeDefined();
      await checked;
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toContain('Every order ended as its scenario says.');
      expect(stdout).toContain(`The dashboard stays at ${url} with the engine running: re-drive the dead letters from it. Ctrl-C to stop.`);
    },
    BUDGET_MS,
  );

  it(
    'Ctrl-C stops the engine and exits 130 with a clean message',
    async () => {
      let sent = false;
      const { code, stdout } = await runDemo(['--memory'], (out, signal) => {
        if (!sent && out.includes('PlaceOrder')) {
          sent = true;
          signal('SIGINT');
        }
      });
      expect(sent).toBe(true);
      expect(code).toBe(130);
      expect(stdout).toContain('Ctrl-C: stopping the engine');
      expect(stdout.trimEnd().split('\n').at(-1)).toBe('stopped; run again to resume');
      expect(stdout).not.toContain('Summary');
    },
    BUDGET_MS,
  );
});
