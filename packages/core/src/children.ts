// Child workflows through the outbox (ADR 0009): a decision's `start` entries become effects of the
// parent, committed with its decision; the runtime runs each as the child's creating commit, with
// the parent recorded on the child. A child that ends (or fails) tells its parent the same way: an
// effect of the child, committed with the ending, that the runtime turns into the parent's input.
import { IronflowError } from './errors.js';
import type { AnyWorkflow, InputOf, WorkflowRef } from './workflow.js';

const START: unique symbol = Symbol.for('ironflow.start');

/** A child workflow a decision starts, as `startChild()` makes it. */
export interface ChildStart {
  readonly [START]: true;
  readonly workflowType: string;
  readonly input: unknown;
}

/**
 * Starts an instance of `workflow` (this type or another) with `input`, atomically with the
 * decision that returns it; its ending comes back to this workflow's `onChild`.
 * @example accept({ type: 'ShipmentRequested' }, { start: [startChild(shipment, { type: 'Ship', shipmentId: `s-${orderId}` })] })
 */
export function startChild<W extends AnyWorkflow>(workflow: W, input: InputOf<W>): ChildStart {
  if (typeof workflow !== 'object' || workflow === null || typeof workflow.type !== 'string') {
    throw new IronflowError('INVALID_DECISION', 'startChild needs a workflow definition (from defineWorkflow)');
  }
  return { [START]: true, workflowType: workflow.type, input };
}

/** True for values made by `startChild()`, from any copy of core. */
export function isChildStart(value: unknown): value is ChildStart {
  return typeof value === 'object' && value !== null && (value as { [START]?: unknown })[START] === true;
}

/** How a child ended, as its parent's `onChild` hears it. */
export type ChildNotice =
  /** The child completed; `state` is its final state. */
  | { readonly outcome: 'completed'; readonly workflowType: string; readonly workflowId: string; readonly state: unknown }
  /** The child was cancelled (`engine.cancel`), with the reason given. */
  | { readonly outcome: 'cancelled'; readonly workflowType: string; readonly workflowId: string; readonly reason: string }
  /**
   * The child could not go on: its start input was rejected (`reason` is the rejection) or named an
   * instance that had already ended, or one of its effects or timers was dead-lettered and the
   * child has no `onDeadLetter` to handle it (`error`). The child itself is left as it is.
   */
  | { readonly outcome: 'failed'; readonly workflowType: string; readonly workflowId: string; readonly error: string; readonly reason?: unknown };

/** The key of the system payloads below; user effect payloads must not use it at their top level. */
export const SYSTEM_EFFECT = '$ironflow';

/** The payload of the effect that starts a child. */
export interface StartChildPayload {
  readonly [SYSTEM_EFFECT]: 'start';
  readonly workflowType: string;
  readonly input: unknown;
}

/** The payload of the effect that tells a parent how its child ended. */
export interface ChildEndedPayload {
  readonly [SYSTEM_EFFECT]: 'child-ended';
  readonly parent: WorkflowRef;
  readonly notice: ChildNotice;
}

/** A payload the runtime handles itself instead of a user's effect handler. */
export type SystemEffectPayload = StartChildPayload | ChildEndedPayload;

/** The system payload in an effect's payload, or undefined for a user effect. */
export function systemEffectOf(payload: unknown): SystemEffectPayload | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const kind = (payload as Record<string, unknown>)[SYSTEM_EFFECT];
  return kind === 'start' || kind === 'child-ended' ? (payload as SystemEffectPayload) : undefined;
}

/** The effect payload that starts `start` as a child. */
export const startPayload = (start: ChildStart): StartChildPayload => ({ [SYSTEM_EFFECT]: 'start', workflowType: start.workflowType, input: start.input });

/** The effect payload that tells `parent` how its child ended. */
export const childEndedPayload = (parent: WorkflowRef, notice: ChildNotice): ChildEndedPayload => ({
  [SYSTEM_EFFECT]: 'child-ended',
  parent: { type: parent.type, id: parent.id },
  notice,
});
