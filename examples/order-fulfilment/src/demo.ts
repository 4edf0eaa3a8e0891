// The demo: a dozen orders through every path of the workflow on a started engine and the system
// clock, a line per lifecycle event, then a summary read back from the store and checked against
// what each order must come to. The store is an embedded, file-backed PostgreSQL (PGlite): kill
// the demo half-way and run it again to resume. Ctrl-C stops it gracefully.
import { rm } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowStore } from '@ironflow/core/store';
import type { Engine, LifecycleEvent, Logger } from '@ironflow/runtime';
import { createMemoryStore } from '@ironflow/store-memory';
import { createPGliteStore } from '@ironflow/store-postgres';
import { createOrderEngine } from './engine.js';
import { DECLINED_CARD, GOOD_CARD, SLOW_ISSUER_CARD, createServices } from './handlers.js';
import type { CancelReason, GiftCardStatus, GiftCard, Order, OrderLine, OrderState, OrderWorkflow } from './order-workflow.js';

/** The payment deadline in business terms: a placed order has 15 minutes to be paid. */
const PAYMENT_DEADLINE_MS = 15 * 60_000;
/**
 * o-1005 was placed at the shop front this long before its deadline (it waited in a checkout
 * queue), and its card's issuer answers only after the deadline: the deadline fires a few
 * seconds into the demo because of that, never because the machine is slow.
 */
const LATE_ORDER_LEFT_MS = 3_000;
/**
 * Leases far longer than any step takes, so a busy machine never loses one; the price is that
 * after a kill, the work the dead process held is claimed again once its lease expires.
 */
const LEASE_MS = 30_000;
/** A last resort against a hang, not a budget: a lease left by a killed run, plus plenty. */
const SETTLE_TIMEOUT_MS = 2 * LEASE_MS + 120_000;

const started = Date.now();
const clockText = () => `${((Date.now() - started) / 1000).toFixed(2).padStart(5)}s`;

/** Set by Ctrl-C (or SIGTERM): the demo stops the engine, closes the store and exits 130. */
let interrupted = false;
let interruptedAt = 0;
let onInterrupt = () => {};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      // A second Ctrl-C quits at once; one within a second is the same keypress delivered twice
      // (to the process and to its group), not a second request.
      if (Date.now() - interruptedAt < 1_000) return;
      console.log('\nstopping at once; run again to resume');
      process.exit(130);
    }
    interrupted = true;
    interruptedAt = Date.now();
    console.log(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping the engine (Ctrl-C again to quit at once) …`);
    onInterrupt();
  });
}
const untilInterrupted = new Promise<void>((resolve) => {
  onInterrupt = resolve;
});

/** Where the demo's database lives (`IRONFLOW_DEMO_DIR` overrides it), and how to name it. */
const ROOT = new URL('../../..', import.meta.url).pathname;
const DATA_DIR = resolve(process.env.IRONFLOW_DEMO_DIR ?? `${ROOT}.ironflow/demo-db`);
const DATA_DIR_SHOWN = DATA_DIR.startsWith(ROOT) ? relative(ROOT, DATA_DIR) : DATA_DIR;

/**
 * Where the demo keeps its workflows: a PGlite database in DATA_DIR, which survives a killed
 * process. `--fresh` starts from an empty database; `--memory` uses the (non-durable) memory store.
 */
async function openStore(): Promise<{ store: WorkflowStore; close: () => Promise<void>; where: string }> {
  if (process.argv.includes('--memory')) {
    console.log('Opening the in-memory store (nothing is kept after the demo) …');
    return { store: createMemoryStore(), close: async () => {}, where: 'the memory store' };
  }
  const shown = DATA_DIR_SHOWN;
  if (process.argv.includes('--fresh')) await rm(DATA_DIR, { recursive: true, force: true });
  console.log(`Opening the embedded PostgreSQL (PGlite) store in ${shown} … (the first run creates it, which takes a few seconds)`);
  const store = await createPGliteStore({ dataDir: DATA_DIR });
  return { store, close: () => store.close(), where: `PGlite in ${shown}` };
}

/** What an order must come to, however fast the machine and however often the demo was killed. */
type Expected =
  | { readonly status: 'shipped'; readonly giftCard?: Exclude<GiftCardStatus, 'sending'> }
  | { readonly status: 'cancelled'; readonly reason: CancelReason };

interface DemoOrder {
  readonly orderId: string;
  readonly scenario: string;
  readonly items: readonly OrderLine[];
  readonly amount: number;
  readonly card: string;
  readonly giftCard?: GiftCard;
  /** The customer cancels right after placing it (twice: the second is refused). */
  readonly cancelAtOnce?: boolean;
  /** Placed at the shop front this long before its payment deadline. */
  readonly deadlineLeftMs?: number;
  readonly expected: Expected;
}

const book = (quantity = 1): OrderLine => ({ sku: 'BOOK-1', quantity });
const shipped: Expected = { status: 'shipped' };

const ORDERS: readonly DemoOrder[] = [
  { orderId: 'o-1001', scenario: 'happy path', items: [book()], amount: 1_999, card: GOOD_CARD, expected: shipped },
  { orderId: 'o-1002', scenario: 'happy path, two lines', items: [{ sku: 'MUG-1', quantity: 2 }, { sku: 'TEE-1', quantity: 1 }], amount: 4_497, card: GOOD_CARD, expected: shipped },
  { orderId: 'o-1003', scenario: 'happy path', items: [book(3)], amount: 5_997, card: GOOD_CARD, expected: shipped },
  { orderId: 'o-1004', scenario: 'declined card', items: [book()], amount: 1_999, card: DECLINED_CARD, expected: { status: 'cancelled', reason: 'card-declined' } },
  {
    orderId: 'o-1005',
    scenario: 'issuer answers after the deadline',
    items: [book(2)],
    amount: 3_998,
    card: SLOW_ISSUER_CARD,
    deadlineLeftMs: LATE_ORDER_LEFT_MS,
    expected: { status: 'cancelled', reason: 'payment-timeout' },
  },
  {
    orderId: 'o-1006',
    scenario: 'gift card over the provider limit',
    items: [book()],
    amount: 1_999,
    card: GOOD_CARD,
    giftCard: { recipient: 'ada@example.com', amount: 7_500 },
    expected: { status: 'shipped', giftCard: 'failed' },
  },
  { orderId: 'o-1007', scenario: 'flaky gateway, retried', items: [{ sku: 'MUG-1', quantity: 1 }], amount: 1_299, card: GOOD_CARD, expected: shipped },
  {
    orderId: 'o-1008',
    scenario: 'gift card',
    items: [book()],
    amount: 1_999,
    card: GOOD_CARD,
    giftCard: { recipient: 'grace@example.com', amount: 2_000 },
    expected: { status: 'shipped', giftCard: 'sent' },
  },
  { orderId: 'o-1009', scenario: 'out of stock', items: [{ sku: 'LAMP-1', quantity: 2 }], amount: 8_998, card: GOOD_CARD, expected: { status: 'cancelled', reason: 'out-of-stock' } },
  {
    orderId: 'o-1010',
    scenario: 'customer cancels at once',
    items: [book()],
    amount: 1_999,
    card: GOOD_CARD,
    cancelAtOnce: true,
    expected: { status: 'cancelled', reason: 'customer-request' },
  },
  { orderId: 'o-1011', scenario: 'happy path', items: [{ sku: 'TEE-1', quantity: 2 }], amount: 3_998, card: GOOD_CARD, expected: shipped },
  { orderId: 'o-1017', scenario: 'flaky gateway, retried', items: [book()], amount: 1_999, card: GOOD_CARD, expected: shipped },
];

/** Effects that must end dead-lettered, as `orderId effect`: the gift card over the limit. */
const EXPECTED_DEAD = ['o-1006 SendGiftCard'];

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
  /** Which order a claimed effect or timer belongs to, for `lease.lost`, which names only the item. */
  const owners = new Map<string, string>();
  const counts = { leasesLost: 0, retries: 0 };
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
      next.push(row.kind === 'effect' ? kindOf(row.payload) : `⏰ ${row.key ?? 'timer'} in ${formatDuration(row.fireAt - row.createdAt)}`);
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
      case 'effect.started':
        owners.set(event.id, event.workflowId);
        return;
      case 'effect.retried': {
        counts.retries += 1;
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
      case 'timer.retried':
        counts.retries += 1;
        return later(async () => print(at, event.workflowId, `↻ ⏰ ${await timerKey(event.workflowId, event.id)} attempt ${event.attempt} failed (${event.error})`));
      case 'timer.dead-lettered':
        return later(async () => print(at, event.workflowId, `✗ ⏰ ${await timerKey(event.workflowId, event.id)} dead-lettered: ${event.error}`));
      case 'lease.lost': {
        counts.leasesLost += 1;
        const orderId = owners.get(event.id) ?? '-';
        return later(async () => {
          const name = orderId === '-' ? event.kind : event.kind === 'effect' ? await effectName(orderId, event.id) : `⏰ ${await timerKey(orderId, event.id)}`;
          print(at, orderId, `⚠ lease on ${name} lost: another worker claimed it; this attempt's result is dropped`);
        });
      }
      case 'worker.restarted':
        return later(async () => print(at, '-', `! ${event.pool} worker restarted after: ${event.error}`));
      default:
        return;
    }
  });
  return { flush: () => chain, counts };
}

function formatDuration(ms: number): string {
  return ms >= 60_000 ? `${(ms / 60_000).toFixed(ms % 60_000 === 0 ? 0 : 1)} min` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * What a killed earlier run still holds, by order: effects leased to it, which nobody runs until
 * the lease expires. Read before this run's engine starts, so its own claims are not counted.
 */
async function leasesOfEarlierRun(engine: Engine, workflow: OrderWorkflow): Promise<Map<string, string[]>> {
  const held = new Map<string, string[]>();
  for (const { orderId } of ORDERS) {
    const effects = await engine.listEffects({ type: workflow.type, id: orderId });
    const leased = effects.filter((e) => e.status === 'leased' && (e.leaseExpiresAt ?? 0) > Date.now());
    if (leased.length > 0) held.set(orderId, leased.map((e) => `${kindOf(e.payload)} runs again when the earlier run's lease expires, in ${formatDuration((e.leaseExpiresAt ?? 0) - Date.now())}`));
  }
  return held;
}

/** Places the demo orders; an order placed by an earlier run is left as it is. Returns how many those were. */
async function placeOrders(engine: Engine, workflow: OrderWorkflow, held: ReadonlyMap<string, readonly string[]>): Promise<number> {
  let resumed = 0;
  for (const { orderId, scenario: _scenario, cancelAtOnce, deadlineLeftMs, expected: _expected, ...order } of ORDERS) {
    if (interrupted) break;
    const placedAt = deadlineLeftMs === undefined ? {} : { placedAt: Date.now() - (PAYMENT_DEADLINE_MS - deadlineLeftMs) };
    const result = await engine.execute(workflow, { type: 'PlaceOrder', orderId, ...order, ...placedAt }, { idempotencyKey: `place-${orderId}` });
    if (result.status === 'duplicate') {
      resumed += 1;
      const { completed } = await engine.getState(workflow, orderId);
      console.log(`${clockText()}  ${orderId.padEnd(7)} placed by an earlier run: ${completed ? 'already settled' : ['resuming it', ...(held.get(orderId) ?? [])].join('; ')}`);
    }
    if (cancelAtOnce && result.status === 'accepted') {
      await engine.execute(workflow, { type: 'CancelOrder', orderId });
      await engine.execute(workflow, { type: 'CancelOrder', orderId }); // a double click: refused
    }
  }
  return resumed;
}

/** Polls until every demo order is settled (completed), the demo is interrupted, or the last-resort timeout. */
async function waitUntilSettled(engine: Engine, workflow: OrderWorkflow, timeoutMs: number): Promise<'settled' | 'interrupted' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (interrupted) return 'interrupted';
    const completed = await engine.listInstances({ workflowType: workflow.type, status: 'completed', limit: 1_000 });
    const done = new Set(completed.map((i) => i.workflowId));
    if (ORDERS.every((o) => done.has(o.orderId))) return 'settled';
    if (Date.now() > deadline) return 'timeout';
    await Promise.race([sleep(100), untilInterrupted]);
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

/** What is wrong with an order's end state, or undefined when it is what the scenario must come to. */
function mismatch(expected: Expected, state: OrderState, completed: boolean): string | undefined {
  const want = expected.status === 'shipped' ? `shipped${expected.giftCard ? ` with gift card ${expected.giftCard}` : ''}` : `cancelled (${expected.reason})`;
  if (state.status === 'none') return `expected ${want}, but it was never placed`;
  const got = outcomeOf(state);
  if (!completed) return `expected ${want}, but it is still in flight: ${got}`;
  if (state.status !== expected.status) return `expected ${want}, got ${got}`;
  if (expected.status === 'cancelled' && state.cancelReason !== expected.reason) return `expected ${want}, got ${got}`;
  if (expected.status === 'shipped' && state.giftCardStatus !== (expected.giftCard ?? 'none')) return `expected ${want}, got ${got}`;
  return undefined;
}

/** Reads the outcome back from the store (so a resumed run reports the whole history) and checks it; returns the problems. */
async function printSummary(engine: Engine, workflow: OrderWorkflow, counts: { leasesLost: number; retries: number }, elapsedMs: number): Promise<string[]> {
  const tally = new Map<string, number>();
  const count = (key: string, by = 1) => tally.set(key, (tally.get(key) ?? 0) + by);
  const problems: string[] = [];
  console.log('\nOrders');
  for (const { orderId, scenario, expected } of ORDERS) {
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
    const wrong = mismatch(expected, state, completed);
    if (wrong) problems.push(`${orderId} (${scenario}): ${wrong}`);
    if (state.status === 'none') {
      console.log(`  ${orderId}  not placed`);
      continue;
    }
    count(state.status === 'shipped' || state.status === 'cancelled' ? state.status : 'in progress');
    console.log(`  ${wrong ? '✗' : '✓'} ${orderId}  ${scenario.padEnd(34)} ${outcomeOf(state)}`);
  }
  const dead = await engine.deadLetters.list({ kind: 'effect', workflowType: workflow.type, limit: 100 });
  const deadNames = dead.map((d) => `${d.workflowId} ${kindOf(d.kind === 'effect' ? d.payload : d.input)}`).sort();
  if (JSON.stringify(deadNames) !== JSON.stringify(EXPECTED_DEAD)) problems.push(`dead letters: expected ${EXPECTED_DEAD.join(', ')}; got ${deadNames.join(', ') || 'none'}`);

  const n = (key: string) => tally.get(key) ?? 0;
  console.log('\nSummary');
  console.log(`  instances  ${n('completed')} completed, ${n('active')} active`);
  console.log(`  orders     ${n('shipped')} shipped, ${n('cancelled')} cancelled${n('in progress') > 0 ? `, ${n('in progress')} in progress` : ''}`);
  console.log(`  effects    ${n('effects')} effects, ${n('runs')} runs (${n('retries')} retries), ${n('dead')} dead-lettered`);
  console.log(`  timers     ${n('timers fired')} fired, ${n('timers cancelled')} cancelled, ${n('timers pending')} pending`);
  console.log(`  this run   ${counts.retries} retries, ${counts.leasesLost} leases lost`);
  console.log(`  dead letters now: ${dead.length} (re-drive with engine.deadLetters.redrive('effect', id))`);
  console.log(`  total time ${(elapsedMs / 1000).toFixed(2)} s`);
  return problems;
}

async function main(): Promise<number> {
  console.log(`Ironflow order-fulfilment demo: ${ORDERS.length} orders, payment deadline ${formatDuration(PAYMENT_DEADLINE_MS)}, leases ${formatDuration(LEASE_MS)}`);
  const { store, close, where } = await openStore();
  let engine: Engine | undefined;
  const services = createServices({
    latencyMs: 60,
    // The issuer of o-1005's card answers only once the order's payment deadline has passed.
    slowIssuer: async (orderId, signal) => {
      while (!signal.aborted && engine) {
        const { state } = await engine.getState(workflow, orderId);
        if (state.status === 'cancelled') return;
        await sleep(100, undefined, { signal }).catch(() => {});
      }
    },
  });
  const built = createOrderEngine({
    store,
    services,
    paymentDeadlineMs: PAYMENT_DEADLINE_MS,
    pollIntervalMs: 100,
    leaseMs: LEASE_MS,
    // The simulated gateway forgets its requests when the demo is killed, so a resumed flaky
    // charge fails its first requests again: leave room for that instead of dead-lettering it.
    retry: { maxAttempts: 10 },
    // Ctrl-C should not wait long: what is still running after 1 s is aborted and released, uncounted.
    shutdownTimeoutMs: 1_000,
    logger: demoLogger,
  });
  engine = built.engine;
  const { workflow } = built;
  const printer = createProgressPrinter(engine, workflow);
  try {
    if (interrupted) return 130;
    console.log(`Placing the orders on ${where}\n`);
    const held = await leasesOfEarlierRun(engine, workflow);
    engine.start();
    const resumed = await placeOrders(engine, workflow, held);
    const outcome = await waitUntilSettled(engine, workflow, SETTLE_TIMEOUT_MS);
    await engine.stop();
    await printer.flush();
    if (outcome === 'interrupted') return 130;
    const problems = await printSummary(engine, workflow, printer.counts, Date.now() - started);
    if (resumed === ORDERS.length) console.log('\nEvery order was placed by an earlier run (resumed, or already settled). Run with --fresh to start over.');
    if (outcome === 'timeout') problems.unshift(`not every order settled within ${formatDuration(SETTLE_TIMEOUT_MS)}`);
    if (problems.length === 0) {
      console.log('\nEvery order ended as its scenario says.');
      return 0;
    }
    console.error(`\nThe demo did not end as it should:\n${problems.map((p) => `  ✗ ${p}`).join('\n')}`);
    return 1;
  } finally {
    await engine.stop();
    await close();
  }
}

main().then(
  (code) => {
    if (code === 130) console.log('stopped; run again to resume');
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
