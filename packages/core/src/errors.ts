// Typed errors for every failure Ironflow reports. One base class with a string `code`; guards
// compare a brand symbol from the global registry, so they still work across duplicate installs.

const BRAND = Symbol.for('ironflow.error');

/** Every error code Ironflow raises; `docs/reference/errors.md` has one row per code. */
export type IronflowErrorCode =
  | 'VERSION_CONFLICT'
  | 'CONFLICT_RETRIES_EXHAUSTED'
  | 'UNIQUE_KEY_CONFLICT'
  | 'LEASE_LOST'
  | 'UNKNOWN_WORKFLOW_TYPE'
  | 'DUPLICATE_WORKFLOW_TYPE'
  | 'VALIDATION_FAILED'
  | 'INVALID_ARGUMENT'
  | 'INVALID_DECISION'
  | 'DECIDE_FAILED'
  | 'EVOLVE_FAILED'
  | 'NON_RETRYABLE'
  | 'EFFECT_TIMEOUT'
  | 'HANDLER_MISSING'
  | 'STORE_FAILURE'
  | 'SHUTTING_DOWN'
  | 'EFFECT_KEY_CONFLICT'
  | 'EFFECT_DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'WAIT_TIMEOUT'
  | 'WAIT_UNSATISFIABLE'
  | 'EVENT_VERSION_UNKNOWN'
  | 'UPCAST_FAILED'
  | 'NOT_UNDERSTOOD';

/** Options accepted by every Ironflow error constructor. */
export interface IronflowErrorOptions {
  /** The underlying error, kept for diagnosis. */
  cause?: unknown;
  /** Structured, JSON-safe details (ids, types, versions). */
  details?: Readonly<Record<string, unknown>> | undefined;
  /** Overrides the code's `retryable` (a `StoreError` decides by its reason). */
  retryable?: boolean | undefined;
}

/**
 * Codes for which the same call can succeed when simply tried again: a lost race (the decision is
 * made again on the new state), a timeout, or a stop (the work is given back and runs again).
 */
const RETRYABLE_CODES: ReadonlySet<IronflowErrorCode> = new Set<IronflowErrorCode>(['VERSION_CONFLICT', 'CONFLICT_RETRIES_EXHAUSTED', 'EFFECT_TIMEOUT', 'SHUTTING_DOWN', 'WAIT_TIMEOUT']);

/** Whether errors with `code` are retryable; `docs/reference/errors.md` has the table. */
function isRetryableCode(code: IronflowErrorCode): boolean {
  return RETRYABLE_CODES.has(code);
}

/** Base class of every error Ironflow throws on purpose. */
export class IronflowError extends Error {
  readonly code: IronflowErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  /** True when trying the same call again can succeed; decided by the code (a `StoreError` by its reason). */
  readonly retryable: boolean;
  readonly [BRAND] = true;

  constructor(code: IronflowErrorCode, message: string, options: IronflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IronflowError';
    this.code = code;
    this.details = options.details ?? {};
    this.retryable = options.retryable ?? isRetryableCode(code);
  }
}

/** The class raised for each code that has its own subclass. */
interface ErrorClassByCode {
  VERSION_CONFLICT: VersionConflictError;
  UNIQUE_KEY_CONFLICT: UniqueKeyConflictError;
  LEASE_LOST: LeaseLostError;
  STORE_FAILURE: StoreError;
  NON_RETRYABLE: NonRetryableError;
}

/** The error type `isIronflowError(e, code)` narrows to. */
export type IronflowErrorOf<C extends IronflowErrorCode> = C extends keyof ErrorClassByCode ? ErrorClassByCode[C] : IronflowError & { code: C };

/**
 * True when `error` is an `IronflowError` (optionally with the given code), from any copy of core;
 * narrows to the code's subclass, e.g. `StoreError` for `STORE_FAILURE`.
 */
export function isIronflowError(error: unknown): error is IronflowError;
export function isIronflowError<C extends IronflowErrorCode>(error: unknown, code: C): error is IronflowErrorOf<C>;
export function isIronflowError(error: unknown, code?: IronflowErrorCode): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as { [BRAND]?: unknown })[BRAND] !== true) return false;
  return code === undefined || (error as { code?: unknown }).code === code;
}

/** A conditional commit found another version than the one it expected; nothing was written. */
export class VersionConflictError extends IronflowError {
  constructor(
    readonly workflowType: string,
    readonly workflowId: string,
    readonly expectedVersion: number,
    options: { actualVersion?: number | undefined; cause?: unknown } = {},
  ) {
    super(
      'VERSION_CONFLICT',
      `Workflow ${workflowType}:${workflowId} is not at version ${expectedVersion}` +
        (options.actualVersion === undefined ? '' : ` (it is at ${options.actualVersion})`),
      {
        cause: options.cause,
        details: { workflowType, workflowId, expectedVersion, actualVersion: options.actualVersion },
      },
    );
    this.name = 'VersionConflictError';
  }
}

/** Another active instance of the same workflow type holds the unique key; nothing was written. */
export class UniqueKeyConflictError extends IronflowError {
  constructor(
    readonly workflowType: string,
    readonly uniqueKey: string,
    readonly holderId: string | undefined,
  ) {
    super(
      'UNIQUE_KEY_CONFLICT',
      `Unique key "${uniqueKey}" of workflow type ${workflowType} is held by an active instance` +
        (holderId === undefined ? '' : ` (${holderId})`),
      { details: { workflowType, uniqueKey, holderId } },
    );
    this.name = 'UniqueKeyConflictError';
  }
}

/**
 * The lease on an effect or timer expired, was taken over, or its row was cancelled (`cancelled`
 * true: the instance was cancelled or a decision cancelled the effect); the change was not applied.
 */
export class LeaseLostError extends IronflowError {
  readonly cancelled: boolean;
  constructor(readonly kind: 'effect' | 'timer', readonly id: string, options: { cancelled?: boolean | undefined } = {}) {
    const cancelled = options.cancelled === true;
    super('LEASE_LOST', `The lease on ${kind} ${id} is no longer held${cancelled ? ': it was cancelled' : ''}`, { details: { kind, id, cancelled } });
    this.name = 'LeaseLostError';
    this.cancelled = cancelled;
  }
}

/** What went wrong in a store, which decides whether retrying can help. */
export type StoreErrorReason =
  /** Serialization failure, deadlock, lock timeout, busy script: retry soon. */
  | 'transient'
  /** Connection lost, server shutting down or unreachable: retry with backoff. */
  | 'unavailable'
  /** A constraint or data shape the store did not expect: a bug, do not retry. */
  | 'integrity'
  /** Misconfiguration (permissions, missing schema, unsafe server settings): do not retry. */
  | 'configuration'
  /** Anything not classified. */
  | 'unknown';

/** A failure of the storage backend, classified so callers know whether to retry. */
export class StoreError extends IronflowError {
  readonly reason: StoreErrorReason;

  constructor(reason: StoreErrorReason, message: string, options: IronflowErrorOptions = {}) {
    super('STORE_FAILURE', message, { ...options, retryable: reason === 'transient' || reason === 'unavailable' });
    this.name = 'StoreError';
    this.reason = reason;
  }
}

/**
 * Thrown by an effect handler to say retrying cannot help: the effect is dead-lettered at once.
 * @example throw new NonRetryableError('card number is malformed')
 */
export class NonRetryableError extends IronflowError {
  constructor(message: string, options: IronflowErrorOptions = {}) {
    super('NON_RETRYABLE', message, options);
    this.name = 'NonRetryableError';
  }
}

/** Shorthand used across packages for argument checks that must write nothing. */
export function invalidArgument(message: string, details?: Record<string, unknown>): IronflowError {
  return new IronflowError('INVALID_ARGUMENT', message, { details });
}
