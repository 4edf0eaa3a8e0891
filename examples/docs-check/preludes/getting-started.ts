// What docs/getting-started.md has built by the time a block uses it: the order workflow and
// the engine (blocks `// order.ts` and `// engine.ts` of the page), a pool and its store.
import type pg from 'pg';
import type { PostgresStore } from '@ironflow/store-postgres';
import { engine } from './engine.js';
import { order } from './order.js';

declare const pool: pg.Pool;
declare const store: PostgresStore;
