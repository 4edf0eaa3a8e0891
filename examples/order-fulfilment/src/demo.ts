// The demo: a dozen orders through every path of the workflow on a started engine and the system
// clock, a line per lifecycle event, then a summary read back from the store. The store is an
// embedded, file-backed PostgreSQL (PGlite): kill the demo half-way and run it again to resume.
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { InstanceSummary, WorkflowStore } from '@ironflow/core/store';
import type { Engine, LifecycleEvent, Logger } from '@ironflow/runtime';
import { createMemoryStore } from '@ironflow/store-memory';
import { createPGliteStore } from '@ironflow/store-postgres';
import { createOrderEngine } from './engine.js';
import { DECLINED_CARD, GOOD_CARD, SLOW_ISSUER_CARD, createServices } from './handlers.js';
import type { GiftCard, Order, OrderLine, OrderWorkflow } from './order-workflow.js';

/** Short enough to watch: the payment deadline, and the slow issuer that misses it. */
const PAYMENT_DEADLINE_MS = 1_500;
const SLOW_ISSUER_MS = 2_500;
/** Short leases, so that after a kill the work the dead process held is picked up within seconds. */
const LEASE_MS = 1_500;
/** Every order must be settled within this, or the demo fails. */
const SETTLE_TIMEOUT_MS = 12_000;

/** Where the demo's database lives (`IRONFLOW_DEMO_DIR` overrides it). */
const DATA_DIR = resolve(process.env.IRONFLOW_DEMO_DIR ?? new URL('../../../.ironflow/demo-db', import.meta.url).pathname);

/**
 * Where the demo keeps its workflows: a PGlite database in DATA_DIR, which survives a killed
 * process. `--fresh` starts from an empty database; `--memory` uses the (non-durable) memory store.
 */
async function openStore(): Promise<{ store: WorkflowStore; close: () => Promise<void>; where: string }> {
  if (process.argv.includes('--memory')) return { store: createMemoryStore(), close: async () => {}, where: 'the memory store' };
  if (process.argv.includes('--fresh')) await rm(DATA_DIR, { recursive: true, force: true });
  const store = await createPGliteStore({ dataDir: DATA_DIR });
  return { store, close: () => store.close(), where: `an embedded PGlite database in ${DATA_DIR}` };
}

interface DemoOrder {
  readonly orderId: string;
  readonly scenario: string;
  readonly items: readonly OrderLine[];
  readonly amount: number;
  readonly card: string;
  readonly giftCard?: GiftCard;
  /** The customer cancels right after placing it (twice: the second is refused). */
  readonly cancelAtOnce?: boolean;
}

const book = (quantity = 1): OrderLine => ({ sku: 'BOOK-1', quantity });

const ORDERS: readonly DemoOrder[] = [
  { orderId: 'o-1001', scenario: 'happy path', items: [book()], amount: 1_999, card: GOOD_CARD },
  { orderId: 'o-1002', scenario: 'happy path, two lines', items: [{ sku: 'MUG-1', quantity: 2 }, { sku: 'TEE-1', quantity: 1 }], amount: 4_497, card: GOOD_CARD },
  { orderId: 'o-1003', scenario: 'happy path', items: [book(3)], amount: 5_997, card: GOOD_CARD },
  { orderId: 'o-1004', scenario: 'declined card', items: [book()], amount: 1_999, card: DECLINED_CARD },
  { orderId: 'o-1005', scenario: 'slow issuer misses the deadline', items: [book(2)], amount: 3_998, card: SLOW_ISSUER_CARD },
  { orderId: 'o-1006', scenario: 'gift card over the provider limit', items: [book()], amount: 1_999, card: GOOD_CARD, giftCard: { recipient: 'ada@example.com', amount: 7_500 } },
  { orderId: 'o-1007', scenario: 'flaky gateway, retried', items: [{ sku: 'MUG-1', quantity: 1 }], amount: 1_299, card: GOOD_CARD },
  { orderId: 'o-1008', scenario: 'gift card', items: [book()], amount: 1_999, card: GOOD_CARD, giftCard: { recipient: 'grace@example.com', amount: 2_000 } },
  { orderId: 'o-1009', scenario: 'out of stock', items: [{ sku: 'LAMP-1', quantity: 2 }], amount: 8_998, card: GOOD_CARD },
  { orderId: 'o-1010', scenario: 'customer cancels at once', items: [book()], amount: 1_999, card: GOOD_CARD, cancelAtOnce: true },
  { orderId: 'o-1011', scenario: 'happy path', items: [{ sku: 'TEE-1', quantity: 2 }], amount: 3_998, card: GOOD_CARD },
  { orderId: 'o-1017', scenario: 'flaky gateway, retried', items: [book()], amount: 1_999, card: GOOD_CARD },
];

const started = Date.now();
const clockText = () => `${((Date.now() - started) / 1000).toFixed(2).padStart(5)}s`;

/** Only errors reach the terminal; the progress lines below report everything else. */
const demoLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error: (obj, msg) => console.error(`  ! ${msg ?? 'error'} ${JSON.stringify(obj)}`),
};

/** An event's type, with the reason of a cancellation. */
function describeEvent(payload: unknown): string {
  const type = kindOf(payload);
  if (type === 'OrderCancelled' && typeof payload === 'object' && payload !== null && 'reason' in payload) return `${type}(${String(payload.reason)})`;
  return type;
}

/** The `code` of a rejection reason. */
function codeOf(reason: unknown): string {
  return typeof reason === 'object' && reason !== null && 'code' in reason ? String(reason.code) : JSON.stringify(reason);
}

/** `type` of a stored effect or timer payload. */
function kindOf(payload: unknown): string {
  return typeof payload === 'object' && payload !== null && 'type' in payload ? String(payload.type) : '?';
}

/**
 * Prints one line per lifecycle event. Lines are produced in order on one promise chain, because
 * some need a read (which events a commit wrote, which effect failed) that lifecycle events omit.
 */
function createProgressPrinter(engine: Engine, workflow: OrderWorkflow) {
  const announced = new Set<string>();
  let chain = Promise.resolve();
  const print = (at: string, orderId: string, text: string) => console.log(`${at}  ${orderId.padEnd(7)} ${text}`);
  const later = (job: () => Promise<void>) => {
    chain = chain.then(job).catch((error: unknown) => console.error('  ! progress printer:', error));
  };
  const refOf = (orderId: string) => ({ type: workflow.type, id: orderId });
  const effectName = async (orderId: string, id: string) => kindOf((await engine.listEffects(refOf(orderId))).find((e) => e.id === id)?.payload);
  const timerKey = async (orderId: string, id: string) => (await engine.listTimers(refOf(orderId))).find((t) => t.id === id)?.key ?? 'timer';

  async function onCommit(at: string, event: Extract<LifecycleEvent, { type: 'decision.committed' }>): Promise<void> {
    const ref = refOf(event.workflowId);
    const [stored, effects, timers] = await Promise.all([engine.getEvents(ref), engine.listEffects(ref), engine.listTimers(ref)]);
    const written = stored.filter((e) => e.sequence > event.version - event.eventTypes.length && e.sequence <= event.version);
    const first = written[0];
    const cause = first?.metadata.causedBy;
    let from = first?.metadata.inputType ?? '?';
    if (cause?.kind === 'effect') {
      const effect = effects.find((e) => e.id === cause.id);
      const attempts = effect && effect.attempts > 1 ? ` #${effect.attempts}` : '';
      from = `${kindOf(effect?.payload)}${attempts} ${effect?.status === 'dead' ? '✗ dead' : 'done'}`;
    } else if (cause?.kind === 'timer') {
      from = `⏰ ${timers.find((t) => t.id === cause.id)?.key ?? 'timer'}`;
    }
    // What this decision scheduled: rows created at its commit time and not shown before.
    const next: string[] = [];
    for (const row of [...effects, ...timers]) {
      if (row.createdAt !== first?.recordedAt || announced.has(row.id)) continue;
      announced.add(row.id);
      next.push(row.kind === 'effect' ? kindOf(row.payload) : `⏰ ${row.key ?? 'timer'} in ${((row.fireAt - row.createdAt) / 1000).toFixed(1)} s`);
    }
    const what = written.map((e) => describeEvent(e.payload)).join(', ');
    const then = [next.length > 0 ? `⇒ ${next.join(', ')}` : '', event.completed ? '✓ settled' : ''].filter(Boolean).join('  ');
    print(at, event.workflowId, `${from.padEnd(22)} → ${what.padEnd(46)} ${then}`.trimEnd());
  }

  engine.on('*', (event) => {
    const at = clockText();
    if ('workflowType' in event && event.workflowType !== workflow.type) return;
    switch (event.type) {
      case 'decision.committed':
        return later(() => onCommit(at, event));
      case 'decision.rejected':
        return later(async () => print(at, event.workflowId, `${'input refused'.padEnd(22)} ✗ ${codeOf(event.reason)}`));
      case 'effect.retried': {
        const inMs = Math.max(0, event.retryAt - Date.now());
        return later(async () =>
          print(at, event.workflowId, `↻ ${await effectName(event.workflowId, event.id)} attempt ${event.attempt} failed (${event.error}); retry in ${inMs} ms`),
        );
      }
      case 'effect.dead-lettered':
        return later(async () =>
          print(at, event.workflowId, `✗ ${await effectName(event.workflowId, event.id)} dead-lettered after ${event.attempt} attempt(s): ${event.error}`),
        );
      case 'timer.fired':
        // An accepted timer input was printed as the decision it caused.
        if (event.outcome !== 'accepted') later(async () => print(at, event.workflowId, `⏰ ${await timerKey(event.workflowId, event.id)} fired: ${event.outcome}`));
        return;
      case 'timer.dead-lettered':
        return later(async () => print(at, event.workflowId, `✗ ⏰ ${await timerKey(event.workflowId, event.id)} dead-lettered: ${event.error}`));
      case 'worker.restarted':
        return later(async () => print(at, '-', `! ${event.pool} worker restarted after: ${event.error}`));
      default:
        return;
    }
  });
  return { flush: () => chain };
}

/** Places the demo orders; an order placed by an earlier run is left as it is. Returns how many those were. */
async function placeOrders(engine: Engine, workflow: OrderWorkflow): Promise<number> {
  let resumed = 0;
  for (const { orderId, scenario: _scenario, cancelAtOnce, ...order } of ORDERS) {
    const result = await engine.execute(workflow, { type: 'PlaceOrder', orderId, ...order }, { idempotencyKey: `place-${orderId}` });
    if (result.status === 'duplicate') {
      resumed += 1;
      const { completed } = await engine.getState(workflow, orderId);
      console.log(`${clockText()}  ${orderId.padEnd(7)} placed by an earlier run: ${completed ? 'already settled' : 'resuming it'}`);
    }
    if (cancelAtOnce && result.status === 'accepted') {
      await engine.execute(workflow, { type: 'CancelOrder', orderId });
      await engine.execute(workflow, { type: 'CancelOrder', orderId }); // a double click: refused
    }
  }
  return resumed;
}

/** Polls until every demo order is settled (completed), or the time is up. */
async function waitUntilSettled(engine: Engine, workflow: OrderWorkflow, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const completed = await engine.listInstances({ workflowType: workflow.type, status: 'completed', limit: 1_000 });
    const done = new Set(completed.map((i: InstanceSummary) => i.workflowId));
    if (ORDERS.every((o) => done.has(o.orderId))) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function outcomeOf(state: Order): string {
  if (state.status === 'shipped') {
    const gift = state.giftCardStatus === 'none' ? '' : `, gift card ${state.giftCardStatus}`;
    return `shipped ${state.trackingNumber ?? ''}${gift}`;
  }
  if (state.status === 'cancelled') {
    const parts = [`cancelled: ${state.cancelReason ?? '?'}`];
    if (state.stock === 'released') parts.push('stock released');
    if (state.payment === 'refunded') parts.push('late charge refunded');
    return parts.join(', ');
  }
  return `${state.status} (stock ${state.stock}, payment ${state.payment})`;
}

/** Reads the outcome back from the store, so a resumed run reports the whole history. */
async function printSummary(engine: Engine, workflow: OrderWorkflow, elapsedMs: number): Promise<void> {
  const tally = new Map<string, number>();
  const count = (key: string, by = 1) => tally.set(key, (tally.get(key) ?? 0) + by);
  console.log('\nOrders');
  for (const { orderId, scenario } of ORDERS) {
    const ref = { type: workflow.type, id: orderId };
    const [{ state, completed }, effects, timers] = await Promise.all([engine.getState(workflow, orderId), engine.listEffects(ref), engine.listTimers(ref)]);
    count(completed ? 'completed' : 'active');
    for (const e of effects) {
      count('effects');
      count('runs', e.attempts);
      count('retries', Math.max(0, e.attempts - 1));
      if (e.status === 'dead') count('dead');
    }
    for (const t of timers) count(`timers ${t.status}`);
    if (state.status === 'none') {
      console.log(`  ${orderId}  not placed`);
      continue;
    }
    count(state.status === 'shipped' || state.status === 'cancelled' ? state.status : 'in progress');
    console.log(`  ${orderId}  ${scenario.padEnd(34)} ${outcomeOf(state)}`);
  }
  const n = (key: string) => tally.get(key) ?? 0;
  console.log('\nSummary');
  console.log(`  instances  ${n('completed')} completed, ${n('active')} active`);
  console.log(`  orders     ${n('shipped')} shipped, ${n('cancelled')} cancelled${n('in progress') > 0 ? `, ${n('in progress')} in progress` : ''}`);
  console.log(`  effects    ${n('effects')} effects, ${n('runs')} runs (${n('retries')} retries), ${n('dead')} dead-lettered`);
  console.log(`  timers     ${n('timers fired')} fired, ${n('timers cancelled')} cancelled, ${n('timers pending')} pending`);
  console.log(`  dead letters now: ${await engine.deadLetters.count({ kind: 'effect', workflowType: workflow.type })} (re-drive with engine.deadLetters.redrive('effect', id))`);
  console.log(`  total time ${(elapsedMs / 1000).toFixed(2)} s`);
}

async function main(): Promise<number> {
  const { store, close, where } = await openStore();
  const services = createServices({ latencyMs: 60, slowIssuerMs: SLOW_ISSUER_MS });
  const { engine, workflow } = createOrderEngine({ store, services, paymentDeadlineMs: PAYMENT_DEADLINE_MS, pollIntervalMs: 100, leaseMs: LEASE_MS, logger: demoLogger });
  const printer = createProgressPrinter(engine, workflow);

  console.log(`Ironflow order-fulfilment demo: ${ORDERS.length} orders on ${where}, payment deadline ${PAYMENT_DEADLINE_MS / 1000} s\n`);
  try {
    engine.start();
    const resumed = await placeOrders(engine, workflow);
    const settled = await waitUntilSettled(engine, workflow, SETTLE_TIMEOUT_MS);
    await engine.stop();
    await printer.flush();
    await printSummary(engine, workflow, Date.now() - started);
    if (resumed === ORDERS.length) console.log('\nEvery order was placed by an earlier run (resumed, or already settled). Run with --fresh to start over.');
    if (!settled) console.error(`\nNot every order settled within ${SETTLE_TIMEOUT_MS / 1000} s.`);
    return settled ? 0 : 1;
  } finally {
    await engine.stop();
    await close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
