// `error.type` of a failed span: an IronflowError's code, else the error's name, as OpenTelemetry's
// convention asks for a low-cardinality class of the error.
import { isIronflowError } from '@ironflow/core';

/** The fallback value OpenTelemetry's conventions define for an error of no known type. */
export const OTHER_ERROR = '_OTHER';

/** The type of a thrown error. */
export function errorTypeOf(error: unknown): string {
  if (isIronflowError(error)) return error.code;
  if (error instanceof Error) return error.name;
  return OTHER_ERROR;
}

const EXHAUSTED = /^attempts exhausted \(\d+\/\d+\): /;
const TYPED = /^([A-Za-z_$][\w$]*): /;

/**
 * The type of a failed attempt from its lifecycle event, which carries the error as the runtime
 * describes it (`CODE: message` or `Name: message`, after `attempts exhausted (n/m): ` on the last).
 */
export function errorTypeOfText(text: string): string {
  return TYPED.exec(text.replace(EXHAUSTED, ''))?.[1] ?? OTHER_ERROR;
}
