// Row mappers: database rows to the core's records. They never rely on the client's type parsers
// (json columns are selected as text; bigint may arrive as string, number or bigint), so a user's
// global `pg.types` settings cannot change what the store returns.
import { StoreError, stripUndefined, type EffectRecord, type InstanceStatus, type WorkflowRef, type InstanceSummary, type Observation, type StoredEvent, type TimerRecord, type WorkStatus } from '@ironflow/core/store';

/** Reads typed fields of one row, failing with an `integrity` StoreError on an unexpected shape. */
export class Row {
  private readonly fields: Record<string, unknown>;

  constructor(row: unknown) {
    if (typeof row !== 'object' || row === null) throw shapeError('a row', row);
    this.fields = row as Record<string, unknown>;
  }

  text(name: string): string {
    const value = this.fields[name];
    if (typeof value !== 'string') throw shapeError(name, value);
    return value;
  }

  optionalText(name: string): string | undefined {
    return this.fields[name] === null || this.fields[name] === undefined ? undefined : this.text(name);
  }

  number(name: string): number {
    const value = this.fields[name];
    if (typeof value === 'number') return value;
    if (typeof value === 'bigint' || (typeof value === 'string' && /^-?\d+$/.test(value))) {
      const parsed = Number(value);
      if (Number.isSafeInteger(parsed)) return parsed;
    }
    throw shapeError(name, value);
  }

  optionalNumber(name: string): number | undefined {
    return this.fields[name] === null || this.fields[name] === undefined ? undefined : this.number(name);
  }

  boolean(name: string): boolean {
    const value = this.fields[name];
    if (typeof value !== 'boolean') throw shapeError(name, value);
    return value;
  }

  /** A json column selected as `::text`. */
  json(name: string): unknown {
    return parseJson(this.text(name), name);
  }

  optionalJson(name: string): unknown {
    const text = this.optionalText(name);
    return text === undefined ? undefined : parseJson(text, name);
  }
}

/**
 * The rows of a batch function (commit_decisions, settle_leases), each placed at its item's
 * position `r_index`, so their order on the wire does not matter; every position exactly once.
 */
export function byIndex(rows: readonly unknown[], count: number, what: string): Row[] {
  const placed = new Array<Row | undefined>(count);
  for (const raw of rows) {
    const row = new Row(raw);
    const index = row.number('r_index');
    if (index < 0 || index >= count || placed[index] !== undefined) {
      throw new StoreError('integrity', `PostgreSQL store: ${what} returned position ${index} twice or out of range 0–${count - 1}`);
    }
    placed[index] = row;
  }
  if (rows.length !== count) throw new StoreError('integrity', `PostgreSQL store: ${what} returned ${rows.length} rows for ${count} items`);
  return placed as Row[];
}

/** Parses JSON text the database produced. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new StoreError('integrity', `PostgreSQL store: column ${what} does not hold valid JSON`, { cause });
  }
}

function shapeError(what: string, value: unknown): StoreError {
  return new StoreError('integrity', `PostgreSQL store: unexpected value for ${what} (${value === null ? 'null' : typeof value})`, {
    details: { column: what },
  });
}

function status(row: Row): WorkStatus {
  const value = row.text('status');
  switch (value) {
    case 'pending':
    case 'leased':
    case 'done':
    case 'dead':
    case 'fired':
    case 'cancelled':
      return value;
    default:
      throw shapeError('status', value);
  }
}

/** A version column: NULL (rows written before schema version 9) and 1 are both version 1, which reads leave out. */
export function versionOf(row: Row, column: string): number | undefined {
  const version = row.optionalNumber(column);
  return version === 1 ? undefined : version;
}

/** The fields effects and timers share; trace absent when the row has none, version when 1, releases when 0. */
function workItem(row: Row): Omit<EffectRecord, 'kind' | 'payload' | 'priority'> {
  return stripUndefined({
    id: row.text('id'),
    workflowType: row.text('workflow_type'),
    workflowId: row.text('workflow_id'),
    status: status(row),
    attempts: row.number('attempts'),
    lastError: row.optionalText('last_error'),
    createdAt: row.number('created_at'),
    updatedAt: row.number('updated_at'),
    availableAt: row.number('available_at'),
    leaseOwner: row.optionalText('lease_owner'),
    leaseExpiresAt: row.optionalNumber('lease_expires_at'),
    trace: row.optionalJson('trace') as EffectRecord['trace'],
    version: versionOf(row, 'version'),
    releases: row.number('releases') === 0 ? undefined : row.number('releases'),
  });
}

/** An effects row; key, tag and settings absent when unset. */
export function toEffect(raw: unknown): EffectRecord {
  const row = new Row(raw);
  return stripUndefined({
    kind: 'effect' as const,
    ...workItem(row),
    payload: row.json('payload'),
    key: row.optionalText('key'),
    tag: row.optionalText('tag'),
    priority: row.number('priority'),
    settings: row.optionalJson('settings') as EffectRecord['settings'],
  });
}

/** A timers row. */
export function toTimer(raw: unknown): TimerRecord {
  const row = new Row(raw);
  return stripUndefined({
    kind: 'timer' as const,
    ...workItem(row),
    key: row.optionalText('key'),
    fireAt: row.number('fire_at'),
    input: row.json('input'),
  });
}

/** An events row of `readEvents`; schemaVersion absent when 1. */
export function toEvent(raw: unknown, workflowType: string, workflowId: string): StoredEvent {
  const row = new Row(raw);
  return withSchemaVersion(
    {
      workflowType,
      workflowId,
      sequence: row.number('sequence'),
      type: row.text('type'),
      payload: row.json('payload'),
      metadata: row.json('metadata') as StoredEvent['metadata'],
      recordedAt: row.number('recorded_at'),
    },
    versionOf(row, 'schema_version'),
  );
}

/** `event` with its schema version, when that is not 1 (so events of version 1 read back as before). */
export function withSchemaVersion<T extends StoredEvent>(event: T, schemaVersion: number | undefined): T {
  return schemaVersion === undefined ? event : { ...event, schemaVersion };
}

/** The events `load` aggregates as `[[sequence, type, payload, metadata, recordedAt, schemaVersion], …]`. */
export function toEvents(text: string | undefined, workflowType: string, workflowId: string): StoredEvent[] {
  if (text === undefined) return [];
  const tuples = parseJson(text, 'events');
  if (!Array.isArray(tuples)) throw shapeError('events', tuples);
  return tuples.map((tuple: unknown) => {
    if (!Array.isArray(tuple) || tuple.length !== 6) throw shapeError('events', tuple);
    const [sequence, type, payload, metadata, recordedAt, schemaVersion] = tuple as [unknown, unknown, unknown, unknown, unknown, unknown];
    if (typeof sequence !== 'number' || typeof type !== 'string' || typeof recordedAt !== 'number') throw shapeError('events', tuple);
    if (schemaVersion !== null && (typeof schemaVersion !== 'number' || !Number.isSafeInteger(schemaVersion))) throw shapeError('events', tuple);
    const event = { workflowType, workflowId, sequence, type, payload, metadata: metadata as StoredEvent['metadata'], recordedAt };
    return withSchemaVersion(event, schemaVersion === null || schemaVersion === 1 ? undefined : schemaVersion);
  });
}

/**
 * An instance's status from its `completed` and `cancel_reason` columns: `completed` is true for
 * both terminal statuses, and only a cancelled instance has a reason.
 */
export function instanceStatus(row: Row): InstanceStatus {
  if (!row.boolean('completed')) return 'active';
  return row.optionalText('cancel_reason') === undefined ? 'completed' : 'cancelled';
}

/** The parent of an instances row (`parent_type`, `parent_id`), when it has one. */
export function parentOf(row: Row): WorkflowRef | undefined {
  const type = row.optionalText('parent_type');
  return type === undefined ? undefined : { type, id: row.text('parent_id') };
}

/** An instances row. */
export function toInstanceSummary(raw: unknown): InstanceSummary {
  const row = new Row(raw);
  return stripUndefined({
    workflowType: row.text('workflow_type'),
    workflowId: row.text('workflow_id'),
    version: row.number('version'),
    status: instanceStatus(row),
    cancelReason: row.optionalText('cancel_reason'),
    parent: parentOf(row),
    createdAt: row.number('created_at'),
    updatedAt: row.number('updated_at'),
  });
}

/** An observations row. */
export function toObservation(raw: unknown): Observation {
  const row = new Row(raw);
  const outcome = row.text('outcome');
  if (outcome !== 'accepted' && outcome !== 'rejected' && outcome !== 'already-completed') throw shapeError('outcome', outcome);
  return stripUndefined({
    workflowType: row.text('workflow_type'),
    workflowId: row.text('workflow_id'),
    inputType: row.text('input_type'),
    input: row.json('input'),
    outcome,
    rejection: row.optionalJson('rejection'),
    observedAt: row.number('observed_at'),
  });
}
