// The demo: a dozen orders through every path of the workflow and its shipment child on a started
// engine and the system clock, a line per lifecycle event, then a summary read back from the store
// and checked against what each order must come to, and the orders read model a projection kept.
// The store is an embedded, file-backed PostgreSQL (PGlite): kill the demo half-way and run it
// again to resume. Ctrl-C stops it gracefully.
import { mkdir, rm } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { isIronflowError, type WorkflowRef } from '@ironflow/core';
import type { WorkflowStore } from '@ironflow/core/store';
import type { Engine, LifecycleEvent, Logger } from '@ironflow/runtime';
import { createMemoryStore } from '@ironflow/store-memory';
import { createPGliteStore } from '@ironflow/store-postgres';
import { createOrderEngine } from './engine.js';
import { memoryReadModel, ORDERS_BY_STATUS, summarize, type OrderRow, type OrdersReadModel } from './order-read-model.js';
import { sqlReadModel } from './sql-read-model.js';
import type { DashboardServer } from './dashboard.js';
import type { MetricsEndpoint } from './metrics-endpoint.js';
import { DECLINED_CARD, FREIGHT_SKU, GOOD_CARD, SLOW_ISSUER_CARD, createServices } from './handlers.js';
import type { CancelReason, GiftCardStatus, GiftCard, Order, OrderLine, OrderState, OrderWorkflow } from './order-workflow.js';
import type { ShipmentState, ShipmentWorkflow } from './shipment-workflow.js';

/** The payment deadline in business terms: a placed order has 15 minutes to be paid. */
const PAYMENT_DEADLINE_MS = 15 * 60_000;
/**
 * o-1005 was placed at the shop front this long before its deadline (it waited in a checkout
 * queue), and its card's issuer never answers: the deadline fires a few seconds into the demo
 * because of that, never because the machine is slow, and cancels the charge still waiting.
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
/** Aborted by Ctrl-C: ends the wait for the orders. */
const interruption = new AbortController();
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
    interruption.abort();
  });
}

/**
 * Where the demo's database lives (`IRONFLOW_DEMO_DIR` overrides it), and how to name it. The name
 * carries the version of the demo's events: a database of an earlier demo (before the shipment
 * child) is left alone rather than resumed with events this workflow no longer folds.
 */
const ROOT = new URL('../../..', import.meta.url).pathname;
const DATA_DIR = resolve(process.env.IRONFLOW_DEMO_DIR ?? `${ROOT}.ironflow/demo-db-v2`);
const DATA_DIR_SHOWN = DATA_DIR.startsWith(ROOT) ? relative(ROOT, DATA_DIR) : DATA_DIR;

/** The demo's store, and the orders read model that fits it. */
interface DemoStore {
  readonly store: WorkflowStore;
  readonly close: () => Promise<void>;
  readonly where: string;
  readonly readModel: (workflow: OrderWorkflow) => OrdersReadModel;
}

/**
 * Where the demo keeps its workflows: a PGlite database in DATA_DIR, which survives a killed
 * process, with the read model as a SQL table beside the store's tables, written in the
 * checkpoint's transaction. `--fresh` starts from an empty database; `--memory` uses the
 * (non-durable) memory store and keeps the read model in memory.
 */
async function openStore(): Promise<DemoStore> {
  if (process.argv.includes('--memory')) {
    console.log('Opening the in-memory store (nothing is kept after the demo) …');
    return { store: createMemoryStore(), close: async () => {}, where: 'the memory store', readModel: memoryReadModel };
  }
  const shown = DATA_DIR_SHOWN;
  if (process.argv.includes('--fresh')) await rm(DATA_DIR, { recursive: true, force: true });
  console.log(`Opening the embedded PostgreSQL (PGlite) store in ${shown} … (the first run creates it, which takes a few seconds)`);
  await mkdir(dirname(DATA_DIR), { recursive: true });
  // Opened here rather than by the store, so the read model's table lives in the same database.
  const pglite = await PGlite.create(DATA_DIR);
  const store = await createPGliteStore({ pglite });
  return {
    store,
    close: async () => {
      await store.close();
      await pglite.close();
    },
    where: `PGlite in ${shown}`,
    readModel: (workflow) => sqlReadModel(workflow, pglite),
  };
}

/** What an order must come to, however fast the machine and however often the demo was killed. */
type Expected =
  | { readonly status: 'delivered'; readonly giftCard?: Exclude<GiftCardStatus, 'sending'> }
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
const delivered: Expected = { status: 'delivered' };

const ORDERS: readonly DemoOrder[] = [
  { orderId: 'o-1001', scenario: 'happy path', items: [book()], amount: 1_999, card: GOOD_CARD, expected: delivered },
  { orderId: 'o-1002', scenario: 'happy path, two lines', items: [{ sku: 'MUG-1', quantity: 2 }, { sku: 'TEE-1', quantity: 1 }], amount: 4_497, card: GOOD_CARD, expected: delivered },
  { orderId: 'o-1003', scenario: 'happy path', items: [book(3)], amount: 5_997, card: GOOD_CARD, expected: delivered },
  { orderId: 'o-1004', scenario: 'declined card', items: [book()], amount: 1_999, card: DECLINED_CARD, expected: { status: 'cancelled', reason: 'card-declined' } },
  {
    orderId: 'o-1005',
    scenario: 'issuer silent past the deadline',
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
    expected: { status: 'delivered', giftCard: 'failed' },
  },
  { orderId: 'o-1007', scenario: 'flaky gateway, retried', items: [{ sku: 'MUG-1', quantity: 1 }], amount: 1_299, card: GOOD_CARD, expected: delivered },
  {
    orderId: 'o-1008',
    scenario: 'gift card',
    items: [book()],
    amount: 1_999,
    card: GOOD_CARD,
    giftCard: { recipient: 'grace@example.com', amount: 2_000 },
    expected: { status: 'delivered', giftCard: 'sent' },
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
  { orderId: 'o-1011', scenario: 'happy path', items: [{ sku: 'TEE-1', quantity: 2 }], amount: 3_998, card: GOOD_CARD, expected: delivered },
  {
    orderId: 'o-1012',
    scenario: 'carrier refuses the parcel',
    items: [{ sku: FREIGHT_SKU, quantity: 1 }],
    amount: 49_900,
    card: GOOD_CARD,
    expected: { status: 'cancelled', reason: 'shipment-failed' },
  },
  { orderId: 'o-1017', scenario: 'flaky gateway, retried', items: [book()], amount: 1_999, card: GOOD_CARD, expected: delivered },
];

/**
 * Effects that must end dead-lettered, as `type id effect`: the gift card over the limit, and the
 * booking the carrier refused.
 */
const EXPECTED_DEAD = ['order o-1006 SendGiftCard', 'shipment o-1012 BookParcel'];

/** Only errors reach the terminal; the progress lines below report everything else. */
const demoLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  // Dead letters are part of the story and printed as such (✗); anything else at error is not.
  error: (obj, msg) => {
    if (msg?.endsWith('dead-lettered') === true) return;
    console.error(`  ! ${msg ?? 'error'} ${JSON.stringify(obj)}`);
  },
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

/**
 * `type` of a stored effect or timer payload; the runtime's own effects (`$ironflow`) that start a
 * child (`▶ shipment`) and tell a parent how its child ended (`↩ order`) by what they do.
 */
function kindOf(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null) return '?';
  if ('$ironflow' in payload) {
    if (payload.$ironflow === 'start' && 'workflowType' in payload) return `▶ ${String(payload.workflowType)}`;
    if (payload.$ironflow === 'child-ended' && 'parent' in payload && typeof payload.parent === 'object' && payload.parent !== null && 'type' in payload.parent) {
      return `↩ ${String(payload.parent.type)}`;
    }
  }
  return 'type' in payload ? String(payload.type) : '?';
}

/** The demo's two workflow types. */
interface DemoWorkflows {
  readonly order: OrderWorkflow;
  readonly shipment: ShipmentWorkflow;
}

/**
 * Prints one line per lifecycle event of an order or its shipment (marked `↳`). Lines are produced
 * in order on one promise chain, because some need a read (which events a commit wrote, which
 * effect failed) that lifecycle events omit.
 */
function createProgressPrinter(engine: Engine, { order, shipment }: DemoWorkflows) {
  const announced = new Set<string>();
  /** Which instance a claimed effect or timer belongs to, for `lease.lost`, which names only the item. */
  const owners = new Map<string, WorkflowRef>();
  const counts = { leasesLost: 0, retries: 0, cancelled: 0 };
  let chain = Promise.resolve();
  // A shipment is named by its order's id; its lines are marked so that the two read apart.
  const print = (at: string, ref: WorkflowRef, text: string) => console.log(`${at}  ${ref.id.padEnd(7)} ${ref.type === shipment.type ? `↳ ${text}` : text}`);
  const later = (job: () => Promise<void>) => {
    chain = chain.then(job).catch((error: unknown) => console.error('  ! progress printer:', error));
  };
  const effectName = async (ref: WorkflowRef, id: string) => kindOf((await engine.listEffects(ref)).find((e) => e.id === id)?.payload);
  const timerKey = async (ref: WorkflowRef, id: string) => (await engine.listTimers(ref)).find((t) => t.id === id)?.key ?? 'timer';

  async function onCommit(at: string, event: Extract<LifecycleEvent, { type: 'decision.committed' }>): Promise<void> {
    const ref = { type: event.workflowType, id: event.workflowId };
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
    } else if (first?.metadata.idempotencyKey?.startsWith('ironflow:child')) {
      from = `↩ ${from}`; // the order's onChild input: how its shipment ended
    }
    // What this decision scheduled: rows created at its commit time and not shown before; and the
    // effects it cancelled by key (cancelEffects), changed at its commit time.
    const next: string[] = [];
    const stopped: string[] = [];
    for (const row of [...effects, ...timers]) {
      if (row.createdAt === first?.recordedAt && !announced.has(row.id)) {
        announced.add(row.id);
        next.push(row.kind === 'effect' ? kindOf(row.payload) : `⏰ ${row.key ?? 'timer'} in ${formatDuration(row.fireAt - row.createdAt)}`);
      } else if (row.kind === 'effect' && row.status === 'cancelled' && row.updatedAt === first?.recordedAt && !announced.has(`cancelled ${row.id}`)) {
        announced.add(`cancelled ${row.id}`);
        stopped.push(`⊘ ${kindOf(row.payload)}`);
      }
    }
    const what = written.map((e) => describeEvent(e.payload)).join(', ');
    const then = [next.length > 0 ? `⇒ ${next.join(', ')}` : '', ...stopped, event.completed ? '✓ settled' : ''].filter(Boolean).join('  ');
    // The `↳` of a shipment line takes two columns of the cause.
    const width = ref.type === shipment.type ? 20 : 22;
    print(at, ref, `${from.padEnd(width)} → ${what.padEnd(46)} ${then}`.trimEnd());
  }

  engine.on('*', (event) => {
    const at = clockText();
    if ('workflowType' in event && event.workflowType !== order.type && event.workflowType !== shipment.type) return;
    const ref = 'workflowType' in event && 'workflowId' in event ? { type: event.workflowType, id: event.workflowId } : undefined;
    switch (event.type) {
      case 'decision.committed':
        return later(() => onCommit(at, event));
      case 'decision.rejected':
        return later(async () => print(at, ref!, `${'input refused'.padEnd(22)} ✗ ${codeOf(event.reason)}`));
      case 'effect.started':
        owners.set(event.id, ref!);
        return;
      case 'effect.retried': {
        counts.retries += 1;
        const inMs = Math.max(0, event.retryAt - Date.now());
        return later(async () => print(at, ref!, `↻ ${await effectName(ref!, event.id)} attempt ${event.attempt} failed (${event.error}); retry in ${inMs} ms`));
      }
      case 'effect.cancelled':
        // A handler aborted because its effect was cancelled; the decision that cancelled it
        // shows it (⊘), and the abort can reach this listener before that decision's line.
        counts.cancelled += 1;
        return;
      case 'effect.dead-lettered':
        return later(async () => print(at, ref!, `✗ ${await effectName(ref!, event.id)} dead-lettered after ${event.attempt} attempt(s): ${event.error}`));
      case 'timer.fired':
        // An accepted timer input was printed as the decision it caused.
        if (event.outcome !== 'accepted') later(async () => print(at, ref!, `⏰ ${await timerKey(ref!, event.id)} fired: ${event.outcome}`));
        return;
      case 'timer.retried':
        counts.retries += 1;
        return later(async () => print(at, ref!, `↻ ⏰ ${await timerKey(ref!, event.id)} attempt ${event.attempt} failed (${event.error})`));
      case 'timer.dead-lettered':
        return later(async () => print(at, ref!, `✗ ⏰ ${await timerKey(ref!, event.id)} dead-lettered: ${event.error}`));
      case 'lease.lost': {
        counts.leasesLost += 1;
        const owner = owners.get(event.id);
        return later(async () => {
          if (owner === undefined) return print(at, { type: order.type, id: '-' }, `⚠ lease on a ${event.kind} lost: another worker claimed it; this attempt's result is dropped`);
          const name = event.kind === 'effect' ? await effectName(owner, event.id) : `⏰ ${await timerKey(owner, event.id)}`;
          print(at, owner, `⚠ lease on ${name} lost: another worker claimed it; this attempt's result is dropped`);
        });
      }
      case 'worker.restarted':
        return later(async () => print(at, { type: order.type, id: '-' }, `! ${event.pool} worker restarted after: ${event.error}`));
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
 * What a killed earlier run still holds, by order: effects of the order or its shipment leased to
 * it, which nobody runs until the lease expires. Read before this run's engine starts, so its own
 * claims are not counted.
 */
async function leasesOfEarlierRun(engine: Engine, { order, shipment }: DemoWorkflows): Promise<Map<string, string[]>> {
  const held = new Map<string, string[]>();
  for (const { orderId } of ORDERS) {
    const effects = [...(await engine.listEffects({ type: order.type, id: orderId })), ...(await engine.listEffects({ type: shipment.type, id: orderId }))];
    const leased = effects.filter((e) => e.status === 'leased' && (e.leaseExpiresAt ?? 0) > Date.now());
    if (leased.length > 0) held.set(orderId, leased.map((e) => `${kindOf(e.payload)} is held by the earlier run's lease for another ${formatDuration((e.leaseExpiresAt ?? 0) - Date.now())}`));
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

/**
 * Waits until every demo order is settled (terminal), Ctrl-C, or the last-resort timeout. Each
 * `waitFor` is woken by the engine's commits and endings, not by polling the store; one order at
 * a time, since every order must settle anyway.
 */
async function waitUntilSettled(engine: Engine, workflow: OrderWorkflow, timeoutMs: number): Promise<'settled' | 'interrupted' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  try {
    for (const { orderId } of ORDERS) {
      await engine.waitFor(workflow, orderId, { timeoutMs: Math.max(0, deadline - Date.now()), signal: interruption.signal });
    }
    return 'settled';
  } catch (error) {
    if (interrupted) return 'interrupted';
    if (isIronflowError(error, 'WAIT_TIMEOUT')) return 'timeout';
    throw error;
  }
}

function outcomeOf(state: Order): string {
  if (state.status === 'delivered') {
    const gift = state.giftCardStatus === 'none' ? '' : `, gift card ${state.giftCardStatus}`;
    return `delivered ${state.trackingNumber ?? ''}${gift}`;
  }
  if (state.status === 'cancelled') {
    const parts = [`cancelled: ${state.cancelReason ?? '?'}`];
    if (state.stock === 'released') parts.push('stock released');
    if (state.payment === 'cancelled') parts.push('charge cancelled');
    if (state.payment === 'refunded') parts.push('charge refunded');
    return parts.join(', ');
  }
  return `${state.status} (stock ${state.stock}, payment ${state.payment})`;
}

/** How the order's shipment must end: delivered for a delivered order, refused when the carrier refused it, else never started. */
function expectedShipment(expected: Expected): ShipmentState['status'] {
  if (expected.status === 'delivered') return 'delivered';
  return expected.reason === 'shipment-failed' ? 'refused' : 'none';
}

/** What is wrong with an order's end state, or undefined when it is what the scenario must come to. */
function mismatch(expected: Expected, state: OrderState, completed: boolean, shipment: ShipmentState): string | undefined {
  const want = expected.status === 'delivered' ? `delivered${expected.giftCard ? ` with gift card ${expected.giftCard}` : ''}` : `cancelled (${expected.reason})`;
  if (state.status === 'none') return `expected ${want}, but it was never placed`;
  const got = outcomeOf(state);
  if (!completed) return `expected ${want}, but it is still in flight: ${got}`;
  if (state.status !== expected.status) return `expected ${want}, got ${got}`;
  if (expected.status === 'cancelled' && state.cancelReason !== expected.reason) return `expected ${want}, got ${got}`;
  if (expected.status === 'delivered' && state.giftCardStatus !== (expected.giftCard ?? 'none')) return `expected ${want}, got ${got}`;
  if (shipment.status !== expectedShipment(expected)) return `expected its shipment ${expectedShipment(expected)}, got ${shipment.status}`;
  return undefined;
}

/** Reads the outcome back from the store (so a resumed run reports the whole history) and checks it; returns the problems. */
async function printSummary(engine: Engine, { order, shipment }: DemoWorkflows, counts: { leasesLost: number; retries: number; cancelled: number }, elapsedMs: number): Promise<string[]> {
  const tally = new Map<string, number>();
  const count = (key: string, by = 1) => tally.set(key, (tally.get(key) ?? 0) + by);
  const problems: string[] = [];
  console.log('\nOrders');
  for (const { orderId, scenario, expected } of ORDERS) {
    const ref = { type: order.type, id: orderId };
    const shipmentRef = { type: shipment.type, id: orderId };
    const [{ state, completed }, parcel, effects, shipmentEffects, timers] = await Promise.all([
      engine.getState(order, orderId),
      engine.getState(shipment, orderId),
      engine.listEffects(ref),
      engine.listEffects(shipmentRef),
      engine.listTimers(ref),
    ]);
    count(completed ? 'completed' : 'active');
    if (parcel.version > 0) {
      count(parcel.completed ? 'completed' : 'active');
      count(`shipments ${parcel.state.status}`);
    }
    for (const e of [...effects, ...shipmentEffects]) {
      count('effects');
      count('runs', e.attempts);
      count('retries', Math.max(0, e.attempts - 1));
      if (e.status === 'dead') count('dead');
      if (e.status === 'cancelled') count('effects cancelled');
    }
    for (const t of timers) count(`timers ${t.status}`);
    const wrong = mismatch(expected, state, completed, parcel.state);
    if (wrong) problems.push(`${orderId} (${scenario}): ${wrong}`);
    if (state.status === 'none') {
      console.log(`  ${orderId}  not placed`);
      continue;
    }
    count(state.status === 'delivered' || state.status === 'cancelled' ? state.status : 'in progress');
    console.log(`  ${wrong ? '✗' : '✓'} ${orderId}  ${scenario.padEnd(34)} ${outcomeOf(state)}`);
  }
  const dead = await engine.deadLetters.list({ kind: 'effect', limit: 100 });
  const deadNames = dead.map((d) => `${d.workflowType} ${d.workflowId} ${kindOf(d.kind === 'effect' ? d.payload : d.input)}`).sort();
  if (JSON.stringify(deadNames) !== JSON.stringify(EXPECTED_DEAD)) problems.push(`dead letters: expected ${EXPECTED_DEAD.join(', ')}; got ${deadNames.join(', ') || 'none'}`);

  const n = (key: string) => tally.get(key) ?? 0;
  const shipments = ['delivered', 'refused', 'in-transit', 'booking'].filter((status) => n(`shipments ${status}`) > 0).map((status) => `${n(`shipments ${status}`)} ${status}`);
  console.log('\nSummary');
  console.log(`  instances  ${n('completed')} completed, ${n('active')} active (orders and their shipments)`);
  console.log(`  orders     ${n('delivered')} delivered, ${n('cancelled')} cancelled${n('in progress') > 0 ? `, ${n('in progress')} in progress` : ''}`);
  console.log(`  shipments  ${shipments.join(', ') || 'none'}`);
  console.log(`  effects    ${n('effects')} effects, ${n('runs')} runs (${n('retries')} retries), ${n('effects cancelled')} cancelled, ${n('dead')} dead-lettered`);
  console.log(`  timers     ${n('timers fired')} fired, ${n('timers cancelled')} cancelled, ${n('timers pending')} pending`);
  console.log(`  this run   ${counts.retries} retries, ${counts.cancelled} handler(s) cancelled while running, ${counts.leasesLost} leases lost`);
  console.log(`  dead letters now: ${dead.length} (re-drive with engine.deadLetters.redrive('effect', id))`);
  console.log(`  total time ${(elapsedMs / 1000).toFixed(2)} s`);
  return problems;
}

/**
 * Waits until the read model's projection has every event committed so far (its lag is 0), woken
 * by this engine's commits; its checkpoint and lag are what `engine.projections` reports to anyone.
 */
async function waitForReadModel(engine: Engine, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !interrupted) {
    if ((await engine.projections.get(ORDERS_BY_STATUS))?.lag.events === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

const money = (cents: number): string => `$${(cents / 100).toFixed(2)}`;

/**
 * Prints the read model the projection kept (orders by status, revenue) and checks it against the
 * instances' own states: the same status for every demo order, and revenue only for the orders
 * whose charge was kept. Returns the problems.
 */
async function printReadModel(engine: Engine, order: OrderWorkflow, readModel: OrdersReadModel): Promise<string[]> {
  const problems: string[] = [];
  const rows = new Map((await readModel.rows()).map((row): [string, OrderRow] => [row.orderId, row]));
  for (const { orderId } of ORDERS) {
    const { state } = await engine.getState(order, orderId);
    if (state.status === 'none') continue;
    const row = rows.get(orderId);
    const revenue = state.payment === 'paid' ? state.amount : 0;
    if (row === undefined) problems.push(`read model: ${orderId} is missing`);
    else if (row.status !== state.status || row.revenue !== revenue) {
      problems.push(`read model: ${orderId} is ${row.status} with revenue ${money(row.revenue)}, its instance ${state.status} with ${money(revenue)}`);
    }
  }
  const { orders, byStatus, revenue } = summarize([...rows.values()]);
  const statuses = (['delivered', 'cancelled', 'paid', 'placed'] as const).filter((status) => byStatus[status] > 0).map((status) => `${byStatus[status]} ${status}`);
  const paid = [...rows.values()].filter((row) => row.revenue > 0).length;
  const report = await engine.projections.get(ORDERS_BY_STATUS);
  console.log(`
Read model (projection ${ORDERS_BY_STATUS}, ${readModel.where})`);
  console.log(`  orders     ${orders}: ${statuses.join(', ') || 'none'}`);
  console.log(`  revenue    ${money(revenue)} kept from ${paid} paid order(s)`);
  console.log(`  projection lag ${report?.lag.events ?? '?'} events, ${report?.deadLetters ?? '?'} dead letters`);
  return problems;
}

/** `--metrics [port]`: serve Prometheus metrics on 127.0.0.1 while the demo runs (default port 9464). */
async function openMetrics(): Promise<MetricsEndpoint | undefined> {
  const at = process.argv.indexOf('--metrics');
  if (at === -1) return undefined;
  const next = process.argv[at + 1];
  const port = next !== undefined && /^\d+$/.test(next) ? Number(next) : 9464;
  // Loaded only when asked for: the OpenTelemetry SDK is not part of the plain demo.
  const { serveMetrics } = await import('./metrics-endpoint.js');
  const endpoint = await serveMetrics({ port });
  console.log(`Serving metrics at ${endpoint.url} while the demo runs`);
  return endpoint;
}

/** Prints the scrape of the demo's own `/metrics`: Ironflow's series, histogram buckets left out. */
async function printScrape(endpoint: MetricsEndpoint): Promise<void> {
  const text = await (await fetch(endpoint.url)).text();
  const ours = (line: string) => line.startsWith('ironflow_') || line.startsWith('# HELP ironflow_') || line.startsWith('# TYPE ironflow_');
  const lines = text.split('\n').filter((line) => ours(line) && !/^ironflow_\w+_bucket\{/.test(line));
  console.log(`\nGET ${endpoint.url} (Ironflow's series without histogram buckets)`);
  for (const line of lines) console.log(`  ${line}`);
}

/** `--dashboard [port]`: serve the web dashboard on 127.0.0.1 while the demo runs (default port 4400). */
async function openDashboard(engine: Engine, { order, shipment }: DemoWorkflows): Promise<DashboardServer | undefined> {
  const at = process.argv.indexOf('--dashboard');
  if (at === -1) return undefined;
  const next = process.argv[at + 1];
  const port = next !== undefined && /^\d+$/.test(next) ? Number(next) : 4400;
  const { serveDashboard } = await import('./dashboard.js');
  const server = await serveDashboard({ engine, workflows: [order, shipment], port });
  console.log(`Serving the dashboard at ${server.url} while the demo runs`);
  return server;
}

/**
 * After the summary, keeps the dashboard up with the engine running again, so that what it does
 * (re-drive a dead letter, cancel, pause) is carried out and printed, until Ctrl-C.
 */
async function keepServing(engine: Engine, dashboard: DashboardServer, printer: { flush: () => Promise<void> }): Promise<void> {
  if (interrupted) return;
  engine.start();
  console.log(`\nThe dashboard stays at ${dashboard.url} with the engine running: re-drive the dead letters from it. Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    if (interruption.signal.aborted) resolve();
    interruption.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await engine.stop();
  await printer.flush();
}

async function main(): Promise<number> {
  console.log(`Ironflow order-fulfilment demo: ${ORDERS.length} orders, payment deadline ${formatDuration(PAYMENT_DEADLINE_MS)}, leases ${formatDuration(LEASE_MS)}`);
  const metrics = await openMetrics();
  const { store, close, where, readModel: readModelOf } = await openStore();
  const { engine, workflow, shipment, readModel } = createOrderEngine({
    store,
    readModel: readModelOf,
    instrumentation: metrics?.instrumentation,
    // The issuer of o-1005's card never answers: its charge waits until the payment deadline cancels it.
    services: createServices({ latencyMs: 60 }),
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
  const workflows = { order: workflow, shipment };
  const printer = createProgressPrinter(engine, workflows);
  let dashboard: DashboardServer | undefined;
  try {
    dashboard = await openDashboard(engine, workflows);
    if (interrupted) return 130;
    console.log(`Placing the orders on ${where}\n`);
    const held = await leasesOfEarlierRun(engine, workflows);
    await readModel.open(engine);
    engine.start();
    const resumed = await placeOrders(engine, workflow, held);
    const outcome = await waitUntilSettled(engine, workflow, SETTLE_TIMEOUT_MS);
    const caughtUp = outcome === 'settled' && (await waitForReadModel(engine, SETTLE_TIMEOUT_MS));
    await engine.stop();
    await printer.flush();
    if (outcome === 'interrupted' || interrupted) return 130;
    const problems = await printSummary(engine, workflows, printer.counts, Date.now() - started);
    problems.push(...(await printReadModel(engine, workflow, readModel)));
    if (outcome === 'settled' && !caughtUp) problems.push(`the read model did not catch up within ${formatDuration(SETTLE_TIMEOUT_MS)}`);
    if (metrics) await printScrape(metrics);
    if (resumed === ORDERS.length) console.log('\nEvery order was placed by an earlier run (resumed, or already settled). Run with --fresh to start over.');
    if (outcome === 'timeout') problems.unshift(`not every order settled within ${formatDuration(SETTLE_TIMEOUT_MS)}`);
    if (problems.length === 0) console.log('\nEvery order ended as its scenario says.');
    else console.error(`\nThe demo did not end as it should:\n${problems.map((p) => `  ✗ ${p}`).join('\n')}`);
    if (dashboard) await keepServing(engine, dashboard, printer);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await engine.stop();
    await dashboard?.close();
    await close();
    await metrics?.close();
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
