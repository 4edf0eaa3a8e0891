// Input validation through Standard Schema v1, so zod, valibot and arktype schemas all work.
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { IronflowError } from './errors.js';

export type { StandardSchemaV1 };

/** Validates `value`; resolves to the schema's output or throws VALIDATION_FAILED listing the issues. */
export async function validateWithSchema<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
  what: string,
): Promise<T> {
  let result = schema['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues === undefined) return result.value;
  const issues = result.issues.map((issue) => ({
    message: issue.message,
    path: (issue.path ?? []).map((p) => (typeof p === 'object' ? p.key : p)).map(String),
  }));
  const summary = issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
  throw new IronflowError('VALIDATION_FAILED', `${what} is invalid: ${summary}`, { details: { issues } });
}
