// Projection checkpoints: one holder per projection by a lease with a fencing token, a checkpoint
// moved only by the current token, takeover after expiry, release, reset, dead letters parked,
// re-driven, resolved and skipped, and the feed's lag. Each test uses projections of its own name.
import { expect, it } from 'vitest';
import type { FeedEvent, FeedPosition, NewProjectionDeadLetter, WorkflowStore } from '@ironflow/core/store';
import { commitOf, expectCode, freshId, freshType, T0, type ConformanceContext } from './context.js';

const LEASE = 30_000;

export function projectionCases(ctx: ConformanceContext): void {
  const freshName = (): string => freshType('projection');

  async function claim(name: string, owner: string, now = T0, store: WorkflowStore = ctx.store) {
    const claimed = await store.claimProjection({ name, owner, now, leaseMs: LEASE });
    if (claimed === undefined) throw new Error(`${owner} could not claim ${name}`);
    return claimed;
  }

  async function statusOf(name: string) {
    return (await ctx.store.listProjections()).find((p) => p.name === name);
  }

  /** The feed events of `type` after `after`, once `count` are readable (retried: a store may hold an event back while a commit that could precede it is in flight). */
  async function readable(type: string, count: number, after?: FeedPosition) {
    const found: FeedEvent[] = [];
    const deadline = Date.now() + 60_000;
    while (found.length < count) {
      const page = await ctx.store.readFeed({ workflowTypes: [type], after, limit: 100 });
      found.push(...page.events);
      after = page.next ?? after;
      if (page.events.length === 0) {
        if (Date.now() > deadline) throw new Error(`only ${found.length} of ${count} events became readable`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    return found;
  }

  /** Positions of `count` fresh events. */
  async function positions(count: number): Promise<FeedPosition[]> {
    const type = freshType('projected');
    for (let i = 0; i < count; i++) await ctx.store.commit(commitOf({ type, id: `i${i}` }, 0));
    return (await readable(type, count)).map((e) => e.position);
  }

  const letter = (position: FeedPosition, fields: Partial<NewProjectionDeadLetter> = {}): NewProjectionDeadLetter => ({
    id: freshId('pdl'),
    workflowType: 'conf.orders',
    workflowId: 'o-1',
    sequence: 1,
    eventType: 'Placed',
    position,
    error: 'handler failed',
    attempts: 3,
    ...fields,
  });

  it('a first claim creates the projection at the feed start; a live lease keeps every other owner out', async () => {
    const name = freshName();
    const first = await claim(name, 'runner-a');
    expect(first.position).toBeUndefined();
    expect(first.lease).toEqual({ name, owner: 'runner-a', token: expect.any(Number) });
    expect(first.lease.token).toBeGreaterThanOrEqual(1);
    expect(first.expiresAt).toBe(T0 + LEASE);
    expect(await ctx.store.claimProjection({ name, owner: 'runner-b', now: T0 + LEASE - 1, leaseMs: LEASE })).toBeUndefined();
    expect(await statusOf(name)).toMatchObject({ name, owner: 'runner-a', token: first.lease.token, expiresAt: T0 + LEASE, deadLetters: 0 });
    expect((await statusOf(name))?.position).toBeUndefined();
  });

  it('after the lease expires another owner takes over with a greater token and the stored checkpoint; the old token is fenced', async () => {
    const name = freshName();
    const [p1, p2] = await positions(2);
    const a = await claim(name, 'runner-a');
    await ctx.store.saveProjection(a.lease, { now: T0 + 10, position: p1 });
    const b = await claim(name, 'runner-b', T0 + LEASE);
    expect(b.lease.token).toBeGreaterThan(a.lease.token);
    expect(b.position).toBe(p1);
    // The old holder wakes up: every write it tries is refused, and nothing it sends is written.
    await expectCode(ctx.store.saveProjection(a.lease, { now: T0 + LEASE + 1, position: p2, parked: [letter(p2!)] }), 'LEASE_LOST');
    await expectCode(ctx.store.renewProjection(a.lease, T0 + LEASE + 1, LEASE), 'LEASE_LOST');
    await expectCode(ctx.store.releaseProjection(a.lease, T0 + LEASE + 1), 'LEASE_LOST');
    expect(await statusOf(name)).toMatchObject({ position: p1, owner: 'runner-b', token: b.lease.token, deadLetters: 0 });
    await ctx.store.saveProjection(b.lease, { now: T0 + LEASE + 2, position: p2 });
    expect((await statusOf(name))?.position).toBe(p2);
  });

  it('a save moves the checkpoint and, with leaseMs, extends the lease; renew extends it too', async () => {
    const name = freshName();
    const [p1] = await positions(1);
    const a = await claim(name, 'runner-a');
    await ctx.store.saveProjection(a.lease, { now: T0 + 20_000, position: p1, leaseMs: LEASE });
    expect(await statusOf(name)).toMatchObject({ position: p1, expiresAt: T0 + 20_000 + LEASE, updatedAt: T0 + 20_000 });
    expect(await ctx.store.claimProjection({ name, owner: 'runner-b', now: T0 + LEASE + 1, leaseMs: LEASE })).toBeUndefined();
    await ctx.store.renewProjection(a.lease, T0 + 40_000, LEASE);
    expect((await statusOf(name))?.expiresAt).toBe(T0 + 40_000 + LEASE);
    expect(await ctx.store.claimProjection({ name, owner: 'runner-b', now: T0 + 40_000 + LEASE - 1, leaseMs: LEASE })).toBeUndefined();
    // A save without a position or leaseMs leaves both alone.
    await ctx.store.saveProjection(a.lease, { now: T0 + 41_000 });
    expect(await statusOf(name)).toMatchObject({ position: p1, expiresAt: T0 + 40_000 + LEASE, updatedAt: T0 + 41_000 });
  });

  it('a holder whose lease expired unclaimed may still renew and save: nobody took over', async () => {
    const name = freshName();
    const [p1] = await positions(1);
    const a = await claim(name, 'runner-a');
    await ctx.store.renewProjection(a.lease, T0 + 2 * LEASE, LEASE);
    await ctx.store.saveProjection(a.lease, { now: T0 + 2 * LEASE, position: p1 });
    expect(await statusOf(name)).toMatchObject({ position: p1, owner: 'runner-a', token: a.lease.token, expiresAt: T0 + 3 * LEASE });
  });

  it('a holder claiming again gets a new token, which fences its own earlier one', async () => {
    const name = freshName();
    const a1 = await claim(name, 'runner-a');
    await ctx.store.releaseProjection(a1.lease, T0 + 1);
    const a2 = await claim(name, 'runner-a', T0 + 2);
    expect(a2.lease.token).toBeGreaterThan(a1.lease.token);
    await expectCode(ctx.store.saveProjection(a1.lease, { now: T0 + 3 }), 'LEASE_LOST');
  });

  it('release lets another owner claim at once', async () => {
    const name = freshName();
    const a = await claim(name, 'runner-a');
    await ctx.store.releaseProjection(a.lease, T0 + 5);
    const status = await statusOf(name);
    expect(status?.owner).toBeUndefined();
    expect(status?.expiresAt).toBeUndefined();
    const b = await claim(name, 'runner-b', T0 + 6);
    expect(b.lease.token).toBeGreaterThan(a.lease.token);
  });

  it('of many owners claiming at once exactly one wins', async () => {
    const name = freshName();
    const stores = [ctx.store, await ctx.open(ctx.namespace), await ctx.open(ctx.namespace)];
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => stores[i % stores.length]!.claimProjection({ name, owner: `runner-${i}`, now: T0, leaseMs: LEASE })),
    );
    const won = results.filter((r) => r !== undefined);
    expect(won).toHaveLength(1);
    expect(await statusOf(name)).toMatchObject({ owner: won[0]!.lease.owner, token: won[0]!.lease.token });
  });

  it('of saves racing after a takeover only the current token lands, and the checkpoint never goes back', async () => {
    const name = freshName();
    const ps = await positions(6);
    const a = await claim(name, 'runner-a');
    await ctx.store.saveProjection(a.lease, { now: T0 + 1, position: ps[1] });
    const b = await claim(name, 'runner-b', T0 + LEASE);
    const other = await ctx.open(ctx.namespace);
    const outcomes = await Promise.allSettled([
      ctx.store.saveProjection(a.lease, { now: T0 + LEASE + 1, position: ps[0] }),
      other.saveProjection(b.lease, { now: T0 + LEASE + 1, position: ps[4] }),
      other.saveProjection(a.lease, { now: T0 + LEASE + 1, position: ps[5] }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
    expect((await statusOf(name))?.position).toBe(ps[4]);
  });

  it('reset moves the checkpoint back (a rebuild), ends the lease and fences its holder; the next claim resumes there', async () => {
    const name = freshName();
    const [p1, p2] = await positions(2);
    const a = await claim(name, 'runner-a');
    await ctx.store.saveProjection(a.lease, { now: T0 + 1, position: p2, parked: [letter(p1!)] });
    await ctx.store.resetProjection({ name, position: p1, now: T0 + 2 });
    const reset = await statusOf(name);
    expect(reset).toMatchObject({ position: p1, deadLetters: 0, updatedAt: T0 + 2 });
    expect(reset?.owner).toBeUndefined();
    expect(reset?.token).toBeGreaterThan(a.lease.token);
    await expectCode(ctx.store.saveProjection(a.lease, { now: T0 + 3, position: p2 }), 'LEASE_LOST');
    const b = await claim(name, 'runner-b', T0 + 4);
    expect(b.position).toBe(p1);
    expect(b.lease.token).toBeGreaterThan(reset!.token);
    // To the start: no position.
    await ctx.store.resetProjection({ name, now: T0 + 5 });
    expect((await claim(name, 'runner-c', T0 + 6)).position).toBeUndefined();
  });

  it('reset of a projection never claimed creates it; keepDeadLetters keeps them', async () => {
    const name = freshName();
    const [p1] = await positions(1);
    await ctx.store.resetProjection({ name, position: p1, now: T0 });
    expect(await statusOf(name)).toMatchObject({ name, position: p1, deadLetters: 0 });
    const a = await claim(name, 'runner-a', T0 + 1);
    expect(a.position).toBe(p1);
    await ctx.store.saveProjection(a.lease, { now: T0 + 2, parked: [letter(p1!)] });
    await ctx.store.resetProjection({ name, now: T0 + 3, keepDeadLetters: true });
    expect((await statusOf(name))?.deadLetters).toBe(1);
  });

  it('parks dead letters with the checkpoint, pages them in id order, and counts them', async () => {
    const name = freshName();
    const [p1, p2] = await positions(2);
    const a = await claim(name, 'runner-a');
    const letters = ['pdl-c', 'pdl-a', 'pdl-b'].map((id, i) => letter(i === 0 ? p2! : p1!, { id, sequence: i + 1, error: `failure ${i}` }));
    await ctx.store.saveProjection(a.lease, { now: T0 + 7, position: p2, parked: letters });
    expect(await statusOf(name)).toMatchObject({ position: p2, deadLetters: 3 });
    const first = await ctx.store.listProjectionDeadLetters({ projection: name, limit: 2 });
    expect(first.items.map((l) => l.id)).toEqual(['pdl-a', 'pdl-b']);
    expect(first.next).toEqual(expect.any(String));
    const second = await ctx.store.listProjectionDeadLetters({ projection: name, after: first.next, limit: 2 });
    expect(second.items.map((l) => l.id)).toEqual(['pdl-c']);
    expect(second.next).toBeUndefined();
    expect(second.items[0]).toEqual({ ...letters[0], projection: name, status: 'parked', parkedAt: T0 + 7, updatedAt: T0 + 7 });
    // Another projection's letters stay apart.
    expect((await ctx.store.listProjectionDeadLetters({ projection: freshName() })).items).toEqual([]);
  });

  it('re-drives a parked letter for the holder, parks it again by id when it fails again, and resolves it when it succeeds', async () => {
    const name = freshName();
    const [p1] = await positions(1);
    const a = await claim(name, 'runner-a');
    const parked = letter(p1!);
    await ctx.store.saveProjection(a.lease, { now: T0 + 1, position: p1, parked: [parked] });
    expect(await ctx.store.redriveProjectionDeadLetter(name, parked.id, T0 + 2)).toBe(true);
    // Only a parked letter can be re-driven.
    expect(await ctx.store.redriveProjectionDeadLetter(name, parked.id, T0 + 3)).toBe(false);
    expect(await ctx.store.redriveProjectionDeadLetter(name, 'no-such-letter', T0 + 3)).toBe(false);
    const redriven = await ctx.store.listProjectionDeadLetters({ projection: name, status: 'redriven' });
    expect(redriven.items).toEqual([{ ...parked, projection: name, status: 'redriven', parkedAt: T0 + 1, updatedAt: T0 + 2 }]);
    expect((await ctx.store.listProjectionDeadLetters({ projection: name, status: 'parked' })).items).toEqual([]);
    // The holder tries it again and fails: parked again under the same id.
    await ctx.store.saveProjection(a.lease, { now: T0 + 4, parked: [{ ...parked, attempts: 6, error: 'still failing' }] });
    expect((await ctx.store.listProjectionDeadLetters({ projection: name })).items).toEqual([
      { ...parked, attempts: 6, error: 'still failing', projection: name, status: 'parked', parkedAt: T0 + 4, updatedAt: T0 + 4 },
    ]);
    expect((await statusOf(name))?.deadLetters).toBe(1);
    // Re-driven once more, and this time it succeeds: resolved, gone.
    await ctx.store.redriveProjectionDeadLetter(name, parked.id, T0 + 5);
    await ctx.store.saveProjection(a.lease, { now: T0 + 6, resolved: [parked.id] });
    expect((await ctx.store.listProjectionDeadLetters({ projection: name })).items).toEqual([]);
    expect((await statusOf(name))?.deadLetters).toBe(0);
    expect((await statusOf(name))?.position).toBe(p1);
  });

  it('skips a dead letter by deleting it, whoever holds the lease', async () => {
    const name = freshName();
    const [p1] = await positions(1);
    const a = await claim(name, 'runner-a');
    const parked = letter(p1!);
    await ctx.store.saveProjection(a.lease, { now: T0 + 1, parked: [parked] });
    expect(await ctx.store.skipProjectionDeadLetter(name, parked.id)).toBe(true);
    expect(await ctx.store.skipProjectionDeadLetter(name, parked.id)).toBe(false);
    expect(await ctx.store.skipProjectionDeadLetter(freshName(), parked.id)).toBe(false);
    expect((await statusOf(name))?.deadLetters).toBe(0);
  });

  it('a fenced save writes none of its dead letters and resolves none', async () => {
    const name = freshName();
    const [p1] = await positions(1);
    const a = await claim(name, 'runner-a');
    const kept = letter(p1!);
    await ctx.store.saveProjection(a.lease, { now: T0 + 1, parked: [kept] });
    await ctx.store.resetProjection({ name, now: T0 + 2, keepDeadLetters: true });
    await expectCode(ctx.store.saveProjection(a.lease, { now: T0 + 3, position: p1, parked: [letter(p1!)], resolved: [kept.id] }), 'LEASE_LOST');
    expect((await ctx.store.listProjectionDeadLetters({ projection: name })).items.map((l) => l.id)).toEqual([kept.id]);
    expect((await statusOf(name))?.position).toBeUndefined();
  });

  it('lists every projection in name order with its own state; other namespaces see none of them', async () => {
    const base = freshName();
    const names = [`${base}.b`, `${base}.a`, `${base}.c`];
    for (const name of names) await claim(name, `owner-of-${name}`);
    const listed = (await ctx.store.listProjections()).filter((p) => p.name.startsWith(base));
    expect(listed.map((p) => p.name)).toEqual([...names].sort());
    expect(listed.map((p) => p.owner)).toEqual([...names].sort().map((n) => `owner-of-${n}`));
    const elsewhere = await ctx.open(`${ctx.namespace}_projections`);
    expect((await elsewhere.listProjections()).filter((p) => p.name.startsWith(base))).toEqual([]);
    expect(await elsewhere.claimProjection({ name: names[0]!, owner: 'tenant-b', now: T0, leaseMs: LEASE })).toMatchObject({ lease: { token: 1 } });
    await ctx.destroy(`${ctx.namespace}_projections`);
  });

  it('a save or reset at a position this store did not write is INVALID_ARGUMENT and writes nothing', async () => {
    const name = freshName();
    const a = await claim(name, 'runner-a');
    const bogus = 'x'.repeat(40);
    await expectCode(ctx.store.saveProjection(a.lease, { now: T0 + 1, position: bogus }), 'INVALID_ARGUMENT');
    await expectCode(ctx.store.resetProjection({ name, position: bogus, now: T0 + 1 }), 'INVALID_ARGUMENT');
    expect(await statusOf(name)).toMatchObject({ token: a.lease.token, owner: 'runner-a' });
    expect((await statusOf(name))?.position).toBeUndefined();
  });

  it('a save with apply on a store without projection transactions is INVALID_ARGUMENT and runs nothing', async () => {
    if (ctx.store.projectionTransactions === true) return;
    const name = freshName();
    const a = await claim(name, 'runner-a');
    let ran = false;
    await expectCode(ctx.store.saveProjection(a.lease, { now: T0 + 1 }, async () => void (ran = true)), 'INVALID_ARGUMENT');
    expect(ran).toBe(false);
  });

  it('with projection transactions, an error thrown by apply comes back as thrown and nothing is saved', async () => {
    if (ctx.store.projectionTransactions !== true) return;
    const name = freshName();
    const [p1] = await positions(1);
    const a = await claim(name, 'runner-a');
    const thrown = new TypeError('read model refused the event');
    await expect(ctx.store.saveProjection(a.lease, { now: T0 + 1, position: p1, parked: [letter(p1!)] }, async () => Promise.reject(thrown))).rejects.toBe(thrown);
    expect(await statusOf(name)).toMatchObject({ deadLetters: 0, updatedAt: T0 });
    expect((await statusOf(name))?.position).toBeUndefined();
    // A fenced save does not run apply's writes either: LEASE_LOST, as without apply.
    await ctx.store.resetProjection({ name, now: T0 + 2 });
    let applied = false;
    await expectCode(ctx.store.saveProjection(a.lease, { now: T0 + 3, position: p1 }, async () => void (applied = true)), 'LEASE_LOST');
    expect(applied).toBe(false);
  });

  it('feedLag counts the events after a position up to a limit and dates the first', async () => {
    const type = freshType('lag');
    const head = await ctx.store.feedHead();
    for (let i = 0; i < 3; i++) await ctx.store.commit(commitOf({ type, id: `l${i}` }, 0, { now: T0 + 1000 * (i + 1) }));
    const [first, , last] = await readable(type, 3, head);
    if (first === undefined || last === undefined) return expect.fail('three events were read');
    // Others' events may interleave on a shared store: counts are at least ours.
    const all = await ctx.store.feedLag({ after: head });
    expect(all.events).toBeGreaterThanOrEqual(3);
    const afterFirst = await ctx.store.feedLag({ after: first.position });
    expect(afterFirst.events).toBeGreaterThanOrEqual(2);
    expect(afterFirst.oldestRecordedAt).toEqual(expect.any(Number));
    const capped = await ctx.store.feedLag({ after: head, limit: 2 });
    expect(capped).toMatchObject({ events: 2, capped: true });
    const atHead = await ctx.store.feedLag({ after: (await ctx.store.feedHead())! });
    expect(atHead.capped).toBe(false);
    if (atHead.events === 0) expect(atHead.oldestRecordedAt).toBeUndefined();
    const fromStart = await ctx.store.feedLag({ limit: 1 });
    expect(fromStart).toMatchObject({ events: 1 });
    if (head === undefined) expect(fromStart.oldestRecordedAt).toBe(T0 + 1000);
    const sole = await ctx.store.feedLag({ after: last.position });
    expect(sole.events === 0 || sole.oldestRecordedAt !== undefined).toBe(true);
  });
}

