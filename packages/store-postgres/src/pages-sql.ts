// Cursor pages of effects, timers and instances. Each query's text holds only the filters it was
// given, so every plan (custom or generic, of each named statement) sees plain equalities and
// ranges it can serve from an index; there are at most a few dozen such texts per store.
import type { CheckedInstancePageQuery, CheckedWorkQuery, WorkStatus } from '@ironflow/core/store';
import { EFFECT_COLUMNS, INSTANCE_COLUMNS, STATUS, TIMER_COLUMNS } from './sql.js';

/** A statement and its values. */
export type Query = readonly [text: string, values: unknown[]];

/** Conditions joined by AND, each with its values numbered in order. */
class Where {
  readonly values: unknown[] = [];
  private readonly conditions: string[] = [];

  /** Adds `condition`, each `$?` in it standing for the next of `values`. */
  add(condition: string, ...values: unknown[]): this {
    let text = condition;
    for (const value of values) {
      this.values.push(value);
      text = text.replace('$?', `$${this.values.length}`);
    }
    this.conditions.push(text);
    return this;
  }

  /** Adds the condition made from `value`, when it is given. */
  addIf<T>(value: T | undefined, condition: (v: T) => [string, ...unknown[]]): this {
    if (value === undefined) return this;
    const [text, ...values] = condition(value);
    return this.add(text, ...values);
  }

  /** ` WHERE …`, or nothing without conditions. */
  get text(): string {
    return this.conditions.length === 0 ? '' : ` WHERE ${this.conditions.join(' AND ')}`;
  }

  /** The next parameter's placeholder for `value`. */
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Every status of an effect or a timer; each table's CHECK constraint allows a subset. */
const WORK_STATUSES: readonly WorkStatus[] = ['pending', 'leased', 'done', 'dead', 'fired', 'cancelled'];

/**
 * Up to `q.limit` effects or timers matching every filter, with id after the cursor, in id order
 * (COLLATE "C": code points). The primary key serves the order; a named instance is read through
 * the instance index and its few rows sorted. With a named instance, the status is written as
 * "none of the other statuses": `status = 'pending'` would let a custom plan walk a partial index
 * of live (or dead) rows led by the type alone, through every such row of the type.
 */
export function listWorkQuery(s: string, q: CheckedWorkQuery): Query {
  const effects = q.kind === 'effect';
  const instance = q.workflowType !== undefined && q.workflowId !== undefined;
  const where = new Where()
    .addIf(q.workflowType, (v) => ['workflow_type = $?::text', v])
    .addIf(q.workflowId, (v) => ['workflow_id = $?::text', v])
    .addIf(q.status, (v) => (instance ? ['status <> ALL ($?::text[])', WORK_STATUSES.filter((other) => other !== v)] : ['status = $?::text', v]))
    .addIf(effects ? q.tag : undefined, (v) => ['tag = $?::text', v])
    .addIf(q.createdFrom, (v) => ['created_at >= $?::bigint', v])
    .addIf(q.createdBefore, (v) => ['created_at < $?::bigint', v])
    .addIf(q.after, (v) => ['id > $?::text', v]);
  const limit = where.param(q.limit);
  return [`SELECT ${effects ? EFFECT_COLUMNS : TIMER_COLUMNS} FROM ${s}.${effects ? 'effects' : 'timers'}${where.text} ORDER BY id LIMIT ${limit}`, where.values];
}

/**
 * Up to `q.limit` instances matching every filter, after the cursor, in (type, id) order: the
 * primary key's, or instances_parent_idx's for the children of one parent.
 */
export function pageInstancesQuery(s: string, q: CheckedInstancePageQuery): Query {
  const where = new Where()
    .addIf(q.parent, (p) => ['parent_type = $?::text AND parent_id = $?::text', p.type, p.id])
    .addIf(q.workflowType, (v) => ['workflow_type = $?::text', v])
    .addIf(q.status, (v) => [`${STATUS} = $?::text`, v])
    .addIf(q.updatedFrom, (v) => ['updated_at >= $?::bigint', v])
    .addIf(q.updatedBefore, (v) => ['updated_at < $?::bigint', v])
    .addIf(q.after, (a) => ['(workflow_type, workflow_id) > ($?::text, $?::text)', a.type, a.id]);
  const limit = where.param(q.limit);
  return [`SELECT ${INSTANCE_COLUMNS} FROM ${s}.instances${where.text} ORDER BY workflow_type, workflow_id LIMIT ${limit}`, where.values];
}
