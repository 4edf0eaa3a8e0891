// engine.readFeed and engine.feedHead: every instance's events in the store's feed order, resumable
// from a position, filtered by type, as a projection reads them.
import { describe, expect, it } from 'vitest';
import { createManualClock } from '@ironflow/core';
import { createMemoryStore } from '@ironflow/store-memory';
import { createEngine } from '../src/index.js';
import { payWorkflow, recordingLogger } from './fixtures.js';

const payment = payWorkflow();

describe('engine.readFeed', () => {
  it('reads every committed event in order, resumes after a position, and reports the head', async () => {
    const engine = createEngine({ store: createMemoryStore(), clock: createManualClock(), logger: recordingLogger(), workflows: [payment] });
    expect(await engine.feedHead()).toBeUndefined();
    await engine.execute(payment, { type: 'Start', id: 'p-1', amount: 10 });
    await engine.execute(payment, { type: 'Start', id: 'p-2', amount: 20 });
    await engine.execute(payment, { type: 'Charged', id: 'p-1', receipt: 'r-1' });
    const first = await engine.readFeed({ limit: 2 });
    expect(first.events.map((e) => [e.workflowId, e.type])).toEqual([['p-1', 'Started'], ['p-2', 'Started']]);
    const rest = await engine.readFeed({ after: first.next });
    expect(rest.events.map((e) => [e.workflowId, e.type, e.payload])).toEqual([['p-1', 'Charged', { type: 'Charged', receipt: 'r-1' }]]);
    expect(await engine.feedHead()).toBe(rest.events[0]!.position);
    expect((await engine.readFeed({ eventTypes: ['Charged'] })).events).toHaveLength(1);
    await expect(engine.readFeed({ after: 'no such position' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
