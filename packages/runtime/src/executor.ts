// The execute path: typed and dynamic inputs through core's decision algorithm, one at a time per
// instance in this process, with the decision's lifecycle event. Workers route results through it.
import { IronflowError, isIronflowError, type AnyWorkflow, type WorkflowRef } from '@ironflow/core';
import { executeInput, inputTypeOf, instanceKey, type CommitAttempt, type ExecuteDependencies, type ExecuteOptions, type ExecuteResult, type InstanceCache } from '@ironflow/core/engine';
import type { CommitRequest } from '@ironflow/core/store';
import { createLruCache, KeyedQueue } from './instance-cache.js';
import type { ExecuteScope } from './instrumentation.js';
import type { LifecycleEmitter } from './lifecycle.js';
import type { EngineSettings } from './options.js';
import type { RunningEffects } from './running-effects.js';
import { cancelledError } from './settle.js';

/** One input's outcome in `executeMany`: its result, or the error `execute` would have thrown for it. */
export type ExecuteManyResult<R = unknown> = ExecuteResult<R> | { readonly status: 'failed'; readonly error: Error };

/** Inputs of one `executeMany` decided at once: enough to fill group-commit batches, bounded in memory. */
const EXECUTE_MANY_CONCURRENCY = 1000;

/** Runs inputs for one engine. */
export class Executor {
  readonly #deps: ExecuteDependencies;
  readonly #cache: InstanceCache | undefined;
  // Inputs to one instance from this process take turns: they would only conflict otherwise.
  readonly #queue = new KeyedQueue();

  constructor(
    private readonly settings: EngineSettings,
    private readonly lifecycle: LifecycleEmitter,
    running: RunningEffects,
  ) {
    const { store, clock } = settings;
    this.#cache = settings.cacheSize > 0 ? createLruCache(settings.cacheSize) : undefined;
    this.#deps = {
      store,
      clock,
      newId: settings.environment.newId,
      sleep: (ms) => new Promise((resolve) => settings.environment.setTimeout(resolve, ms)),
      random: settings.environment.random,
      maxConflictRetries: settings.maxConflictRetries,
      observeInputs: settings.observeInputs,
      cache: this.#cache,
      // The cache tells instances this process knows from those it has never seen, which are
      // committed as new without a load first (see ExecuteDependencies).
      speculateNewInstances: settings.cacheSize > 0,
      onCommitted: (request) => abortCancelled(running, request),
    };
  }

  /** Drops the cached state of an instance this engine changed outside a decision (cancel). */
  forget(ref: WorkflowRef): void {
    this.#cache?.delete(instanceKey(ref));
  }

  /** Runs an input of `workflow`, which must be the definition this engine registered under its type. */
  async execute(workflow: AnyWorkflow, input: unknown, idempotencyKey: string | undefined): Promise<ExecuteResult> {
    const entry = this.settings.entries.get(workflow.type);
    if (entry.workflow !== workflow) {
      throw new IronflowError('UNKNOWN_WORKFLOW_TYPE', `This engine registered another definition under "${workflow.type}"`, { details: { workflowType: workflow.type } });
    }
    return this.run(entry.workflow, input, { idempotencyKey });
  }

  /**
   * Runs many inputs of `workflow` concurrently — inputs to one instance in order, one after the
   * other — so their commits share group-commit batches; one outcome per input, in order.
   */
  async executeMany(workflow: AnyWorkflow, inputs: readonly unknown[], keyOf: ((input: unknown, index: number) => string | undefined) | undefined): Promise<ExecuteManyResult[]> {
    if (!Array.isArray(inputs)) throw new IronflowError('INVALID_ARGUMENT', `executeMany needs an array of inputs, got ${typeof inputs}`);
    if (keyOf !== undefined && typeof keyOf !== 'function') throw new IronflowError('INVALID_ARGUMENT', 'executeMany: idempotencyKey must be a function of (input, index)');
    const results: ExecuteManyResult[] = new Array<ExecuteManyResult>(inputs.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < inputs.length) {
        const index = next++;
        const input: unknown = inputs[index];
        try {
          results[index] = await this.execute(workflow, input, keyOf?.(input, index));
        } catch (error) {
          results[index] = { status: 'failed', error: error instanceof Error ? error : new IronflowError('INVALID_ARGUMENT', String(error)) };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(inputs.length, EXECUTE_MANY_CONCURRENCY) }, worker));
    return results;
  }

  /** Runs an input given as JSON text or a parsed value; the workflow's schema validates it. */
  async executeDynamic(workflowType: string, input: unknown, idempotencyKey: string | undefined): Promise<ExecuteResult> {
    const entry = this.settings.entries.get(workflowType);
    let value = input;
    if (typeof input === 'string') {
      try {
        value = JSON.parse(input);
      } catch (cause) {
        throw new IronflowError('VALIDATION_FAILED', `Input of ${workflowType} is not valid JSON`, { cause });
      }
    }
    return this.run(entry.workflow, value, { idempotencyKey });
  }

  /** Decides and commits one input (with `ack`: settling the effect or timer it came from), emitting its lifecycle event. */
  async run(workflow: AnyWorkflow, input: unknown, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const tracer = this.settings.tracer;
    if (tracer === undefined) return this.#run(workflow, input, options, undefined);
    const causedBy = options.ack ? { kind: options.ack.kind, id: options.ack.id } : undefined;
    return tracer.execute({ workflowType: workflow.type, inputType: safeInputType(workflow, input), causedBy }, (scope) => this.#run(workflow, input, options, scope));
  }

  async #run(workflow: AnyWorkflow, input: unknown, options: ExecuteOptions, scope: ExecuteScope | undefined): Promise<ExecuteResult> {
    const started = performance.now();
    let conflicts = 0;
    let commitMs = 0;
    const onCommit = (attempt: CommitAttempt): void => {
      if (attempt.outcome === 'conflict') conflicts += 1;
      else if (attempt.outcome === 'applied') commitMs = attempt.durationMs;
      scope?.commit?.(attempt);
    };
    const call: ExecuteOptions = scope?.carrier === undefined ? { ...options, onCommit } : { ...options, onCommit, trace: scope.carrier };
    let id: string | undefined;
    try {
      id = workflow.workflowId(input);
    } catch {
      id = undefined; // executeInput reports it, after validating the input
    }
    let result: ExecuteResult;
    try {
      result =
        typeof id === 'string'
          ? await this.#queue.run(instanceKey({ type: workflow.type, id }), () => executeInput(this.#deps, workflow, input, call))
          : await executeInput(this.#deps, workflow, input, call);
    } catch (error) {
      this.lifecycle.emit({
        type: 'decision.failed',
        workflowType: workflow.type,
        inputType: safeInputType(workflow, input),
        code: isIronflowError(error) ? error.code : 'UNEXPECTED',
        error: error instanceof Error ? error.message : String(error),
        durationMs: performance.now() - started,
        conflicts,
      });
      throw error;
    }
    const durationMs = performance.now() - started;
    if (result.status === 'accepted') {
      this.lifecycle.emit({
        type: 'decision.committed',
        workflowType: workflow.type,
        workflowId: result.workflowId,
        inputType: inputTypeOf(workflow, input),
        version: result.version,
        eventTypes: result.events.map((e) => e.type),
        effects: result.effects,
        timers: result.timers,
        completed: result.completed,
        causedBy: options.ack ? { kind: options.ack.kind, id: options.ack.id } : undefined,
        durationMs,
        commitMs,
        conflicts,
      });
    } else if (result.status === 'rejected') {
      this.lifecycle.emit({ type: 'decision.rejected', workflowType: workflow.type, workflowId: result.workflowId, inputType: inputTypeOf(workflow, input), reason: result.reason, durationMs, conflicts });
    } else {
      this.lifecycle.emit({ type: 'decision.unchanged', workflowType: workflow.type, workflowId: result.workflowId, inputType: inputTypeOf(workflow, input), status: result.status, durationMs });
    }
    return result;
  }
}

/** The input's kind for telemetry; an `inputType` that throws on a bad input (reported by the execute itself) reads as `input`. */
function safeInputType(workflow: AnyWorkflow, input: unknown): string {
  try {
    return inputTypeOf(workflow, input);
  } catch {
    return 'input';
  }
}

/**
 * Aborts the handlers this process runs for effects a commit just cancelled (by key, or all of the
 * instance's when it completed under the `cancel` policy), never the one it acknowledged. Other
 * processes learn it at their next lease renewal.
 */
function abortCancelled(running: RunningEffects, request: CommitRequest): void {
  const keys = request.cancelEffects ?? [];
  if (request.cancelWork !== true && keys.length === 0) return;
  const except = request.ack?.kind === 'effect' ? request.ack.id : undefined;
  const why = request.cancelWork === true ? 'its instance completed (terminal policy cancel)' : 'a decision cancelled its key';
  running.cancel(request.ref, { keys: request.cancelWork === true ? undefined : keys, except }, (id) =>
    cancelledError({ id, workflowType: request.ref.type, workflowId: request.ref.id }, why),
  );
}
