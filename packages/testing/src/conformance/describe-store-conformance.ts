// The one store contract, as titled tests: every store package runs this against a real backend.
import { afterAll, beforeAll, describe } from 'vitest';
import type { WorkflowStore } from '@ironflow/core/store';
import { acknowledgementCases } from './acknowledgement.js';
import { batchCases } from './batches.js';
import { badInputCases } from './bad-input.js';
import { concurrencyCases } from './concurrency.js';
import { backlogCases, cancellationCases, keyedEffectCases, pauseCases, priorityAndTagCases, terminalPolicyCases } from './control.js';
import type { ConformanceContext, OpenedStore, StoreConformanceOptions } from './context.js';
import { effectCases } from './effects.js';
import { cancellationEffectCases, endedCases, idempotencyRetentionCases, pageCases, parentCases } from './operations.js';
import { eventCases } from './events.js';
import { feedCases } from './feed.js';
import { hostileIdentifierCases } from './hostile-identifiers.js';
import { poisonIsolationCases } from './poison-isolation.js';
import { projectionCases } from './projections.js';
import { projectionRuntimeCases } from './projection-runtime.js';
import { queryCases } from './queries.js';
import { releaseRuntimeCases } from './release-runtime.js';
import { retentionRuntimeCases } from './retention-runtime.js';
import { runtimeCases } from './runtime.js';
import { tenantIsolationCases } from './tenant-isolation.js';
import { timerCases } from './timers.js';
import { traceCases } from './tracing.js';
import { replayCheckCases } from './replay-check.js';
import { retentionCases } from './retention.js';
import { uniqueKeyCases } from './unique-keys.js';
import { versionCases } from './versions.js';
import { wakeUpCases } from './wake-ups.js';

let suites = 0;

/**
 * Declares the store conformance suite for one store. `open` is called once per store the suite
 * needs: several times with one namespace (stores sharing data, like processes on one schema), and
 * with namespaces of their own (tenants that must stay apart, then destroyed one at a time).
 * @example
 * describeStoreConformance({
 *   name: 'postgres',
 *   async open(schema) {
 *     const pool = new pg.Pool({ connectionString: url, max: 10 });
 *     await migratePostgresStore({ pool, schema });
 *     const store = createPostgresStore({ pool, schema });
 *     return {
 *       store,
 *       close: async () => { await store.close(); await pool.end(); },
 *       destroy: async () => void (await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
 *     };
 *   },
 * });
 */
export function describeStoreConformance(options: StoreConformanceOptions): void {
  describe(`WorkflowStore conformance (${options.name})`, () => {
    suites += 1;
    const base = `conf${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}${suites}`;
    const opened: { namespace: string; handle: OpenedStore }[] = [];
    // Namespaces destroyed and not opened since: the suite's clean-up leaves them alone.
    const destroyed = new Set<string>();
    const open = async (namespace: string): Promise<WorkflowStore> => {
      const handle = await options.open(namespace);
      opened.push({ namespace, handle });
      destroyed.delete(namespace);
      return handle.store;
    };
    const latest = (namespace: string) => opened.findLast((o) => o.namespace === namespace)?.handle;
    const destroy = async (namespace: string): Promise<void> => {
      const handle = latest(namespace);
      if (handle === undefined) throw new Error(`namespace ${namespace} was not opened by this suite`);
      destroyed.add(namespace);
      await handle.destroy();
    };
    const ctx: ConformanceContext = { store: undefined as unknown as WorkflowStore, namespace: base, open, destroy, options };
    beforeAll(async () => {
      ctx.store = await open(base);
    });
    afterAll(async () => {
      // Destroy through a still-open handle of each namespace, then close everything.
      const namespaces = [...new Set(opened.map((o) => o.namespace))].filter((n) => !destroyed.has(n));
      for (const namespace of namespaces) await latest(namespace)!.destroy();
      for (const { handle } of [...opened].reverse()) await handle.close();
    });

    describe('events and versions', () => eventCases(ctx));
    describe('concurrency', () => concurrencyCases(ctx));
    describe('unique keys', () => uniqueKeyCases(ctx));
    describe('effects', () => effectCases(ctx));
    describe('timers', () => timerCases(ctx));
    describe('atomic acknowledgement', () => acknowledgementCases(ctx));
    describe('group commit and batched settlement', () => batchCases(ctx));
    describe('poison isolation', () => poisonIsolationCases(ctx));
    describe('cancelling instances', () => cancellationCases(ctx));
    describe('keyed effects', () => keyedEffectCases(ctx));
    describe('terminal policy', () => terminalPolicyCases(ctx));
    describe('priority and tags', () => priorityAndTagCases(ctx));
    describe('pauses', () => pauseCases(ctx));
    describe('backlog', () => backlogCases(ctx));
    describe('parents', () => parentCases(ctx));
    describe('effects written by a cancellation', () => cancellationEffectCases(ctx));
    describe('terminal notifications', () => endedCases(ctx));
    describe('idempotency retention', () => idempotencyRetentionCases(ctx));
    describe('pages', () => pageCases(ctx));
    describe('trace context', () => traceCases(ctx));
    describe('global event feed', () => feedCases(ctx));
    describe('projection checkpoints', () => projectionCases(ctx));
    describe('versions and releases', () => versionCases(ctx));
    describe('retention', () => retentionCases(ctx));
    describe('queries and retention', () => queryCases(ctx));
    describe('hostile identifiers', () => hostileIdentifierCases(ctx));
    describe('tenant isolation', () => tenantIsolationCases(ctx));
    describe('bad input: INVALID_ARGUMENT, nothing written', () => badInputCases(ctx));
    describe('wake-ups', () => wakeUpCases(ctx));
    describe('runtime end to end', () => runtimeCases(ctx));
    describe('projections end to end', () => projectionRuntimeCases(ctx));
    describe('replay check', () => replayCheckCases(ctx));
    describe('release, not dead', () => releaseRuntimeCases(ctx));
    describe('retention end to end', () => retentionRuntimeCases(ctx));
    if (options.additionalTests) describe(`${options.name} only`, () => options.additionalTests!(ctx));
  });
}
