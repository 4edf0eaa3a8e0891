// Projection checkpoints of the memory store: a row per projection with its lease and dead letters.
// Each primitive checks the token and writes without an await in between, so it is atomic here.
import { badFeedPosition, compareIds, stripUndefined, type FeedLag, type ProjectionDeadLetter, type StoreBackend } from '@ironflow/core/store';
import type { ProjectionRow, Tables } from './memory-tables.js';

/** The index a position of this store's feed stands for (its events before it), refusing any other text. */
export function feedIndex(position: string, length: number, what?: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(position)) throw badFeedPosition(position, 'the memory store writes whole numbers', what);
  const index = Number(position);
  if (index > length) throw badFeedPosition(position, `past the last event, ${length}`, what);
  return index;
}

type ProjectionPrimitives = Pick<
  StoreBackend,
  | 'feedLag'
  | 'claimProjection'
  | 'renewProjection'
  | 'saveProjection'
  | 'releaseProjection'
  | 'resetProjection'
  | 'listProjections'
  | 'listProjectionDeadLetters'
  | 'redriveProjectionDeadLetter'
  | 'skipProjectionDeadLetter'
>;

/** The feed lag and projection primitives over `tables`. */
export function memoryProjections(tables: Tables): ProjectionPrimitives {
  const held = (name: string, token: number): ProjectionRow | undefined => {
    const row = tables.projections.get(name);
    return row?.token === token ? row : undefined;
  };
  const fresh = (name: string, now: number): ProjectionRow => ({ name, token: 0, updatedAt: now, deadLetters: new Map() });
  const copy = (letter: ProjectionDeadLetter): ProjectionDeadLetter => ({ ...letter });

  return {
    async feedLag(query) {
      const { feed } = tables;
      const start = query.after === undefined ? 0 : feedIndex(query.after, feed.length);
      // Events retention deleted are not counted: a reader passes over them.
      let events = 0;
      let oldestRecordedAt: number | undefined;
      let at = start;
      for (; at < feed.length && events <= query.limit; at++) {
        const row = feed[at]!;
        if (row.event.deleted === true) continue;
        oldestRecordedAt ??= row.event.recordedAt;
        events += 1;
      }
      const lag: FeedLag = { events: Math.min(events, query.limit), capped: events > query.limit, oldestRecordedAt };
      return stripUndefined(lag);
    },

    async claimProjection(claim) {
      const row = tables.projections.get(claim.name);
      if (row !== undefined && row.owner !== undefined && row.expiresAt !== undefined && row.expiresAt > claim.now) return undefined;
      const next = row ?? fresh(claim.name, claim.now);
      next.token += 1;
      next.owner = claim.owner;
      next.expiresAt = claim.expiresAt;
      next.updatedAt = claim.now;
      tables.projections.set(claim.name, next);
      return stripUndefined({ lease: { name: claim.name, owner: claim.owner, token: next.token }, position: next.position, expiresAt: claim.expiresAt });
    },

    async renewProjection(renew) {
      const row = held(renew.lease.name, renew.lease.token);
      if (row === undefined) return 'lease-lost';
      row.expiresAt = renew.expiresAt;
      row.owner = renew.lease.owner;
      return 'ok';
    },

    async saveProjection(save) {
      const row = held(save.lease.name, save.lease.token);
      if (row === undefined) return 'lease-lost';
      if (save.position !== undefined) feedIndex(save.position, tables.feed.length, 'save.position');
      save.parked.forEach((letter, i) => feedIndex(letter.position, tables.feed.length, `save.parked[${i}].position`));
      if (save.position !== undefined) row.position = save.position;
      if (save.expiresAt !== undefined) row.expiresAt = save.expiresAt;
      row.updatedAt = save.now;
      for (const letter of save.parked) {
        row.deadLetters.set(letter.id, { ...letter, projection: row.name, status: 'parked', parkedAt: save.now, updatedAt: save.now });
      }
      for (const id of save.resolved) row.deadLetters.delete(id);
      return 'ok';
    },

    async releaseProjection(lease) {
      const row = held(lease.name, lease.token);
      if (row === undefined) return 'lease-lost';
      row.owner = undefined;
      row.expiresAt = undefined;
      return 'ok';
    },

    async resetProjection(reset) {
      if (reset.position !== undefined) feedIndex(reset.position, tables.feed.length, 'reset.position');
      const row = tables.projections.get(reset.name) ?? fresh(reset.name, reset.now);
      row.position = reset.position;
      row.owner = undefined;
      row.expiresAt = undefined;
      row.token += 1;
      row.updatedAt = reset.now;
      if (!reset.keepDeadLetters) row.deadLetters.clear();
      tables.projections.set(reset.name, row);
    },

    async listProjections() {
      return [...tables.projections.values()]
        .sort((a, b) => compareIds(a.name, b.name))
        .map((row) =>
          stripUndefined({
            name: row.name,
            position: row.position,
            owner: row.owner,
            token: row.token,
            expiresAt: row.expiresAt,
            updatedAt: row.updatedAt,
            deadLetters: row.deadLetters.size,
          }),
        );
    },

    async listProjectionDeadLetters(query) {
      const row = tables.projections.get(query.projection);
      if (row === undefined) return [];
      return [...row.deadLetters.values()]
        .filter((l) => (query.status === undefined || l.status === query.status) && (query.after === undefined || compareIds(l.id, query.after) > 0))
        .sort((a, b) => compareIds(a.id, b.id))
        .slice(0, query.limit)
        .map(copy);
    },

    async redriveProjectionDeadLetter(projection, id, now) {
      const letter = tables.projections.get(projection)?.deadLetters.get(id);
      if (letter?.status !== 'parked') return false;
      tables.projections.get(projection)!.deadLetters.set(id, { ...letter, status: 'redriven', updatedAt: now });
      return true;
    },

    async skipProjectionDeadLetter(projection, id) {
      return tables.projections.get(projection)?.deadLetters.delete(id) ?? false;
    },
  };
}
