// Checked reading of what Redis returns (script replies, hashes): every value is checked for the
// shape the store wrote, so a surprise is an `integrity` StoreError naming where, never a wrong value.
import { StoreError } from '@ironflow/core/store';

function describe(value: unknown): string {
  if (value === null) return 'nil';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : typeof value;
}

/** One value of a reply and where it sits (`commit reply[1]`), read through checked accessors. */
export class Reply {
  constructor(
    private readonly value: unknown,
    /** Where the value sits, for the error message. */
    readonly where: string,
  ) {}

  private fail(expected: string): StoreError {
    return new StoreError('integrity', `Redis store: ${this.where} should be ${expected}, got ${describe(this.value)}`, { details: { where: this.where } });
  }

  /** True for nil (Lua `false` or a missing hash field). */
  isNil(): boolean {
    return this.value === null || this.value === undefined;
  }

  /** True for an array. */
  isList(): boolean {
    return Array.isArray(this.value);
  }

  /** True when the value is exactly the string `text`. */
  is(text: string): boolean {
    return this.value === text;
  }

  /** A string (Redis bulk string). */
  text(): string {
    if (typeof this.value !== 'string') throw this.fail('a string');
    return this.value;
  }

  /** A string, or undefined for nil. */
  optionalText(): string | undefined {
    return this.isNil() ? undefined : this.text();
  }

  /** A safe whole number, from a Redis integer or a decimal string. */
  integer(): number {
    const v = this.value;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,16}$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw this.fail('a whole number');
    return n;
  }

  /** A whole number, or undefined for nil. */
  optionalInteger(): number | undefined {
    return this.isNil() ? undefined : this.integer();
  }

  /** One of a few known strings (a status, a verdict). */
  oneOf<T extends string>(allowed: readonly T[]): T {
    const text = this.text();
    const known = allowed.find((value) => value === text);
    if (known === undefined) throw this.fail(`one of ${allowed.join(', ')}`);
    return known;
  }

  /** The elements of an array. */
  list(): Reply[] {
    if (!Array.isArray(this.value)) throw this.fail('an array');
    return this.value.map((item: unknown, i) => new Reply(item, `${this.where}[${i}]`));
  }

  /** Element `i` of an array; reading a missing element fails like any other wrong shape. */
  at(i: number): Reply {
    if (!Array.isArray(this.value)) throw this.fail('an array');
    return new Reply(this.value[i], `${this.where}[${i}]`);
  }

  /** A flat `[field, value, …]` array (HGETALL in Lua) as a record of fields. */
  fields(): Fields {
    const items = this.list();
    if (items.length % 2 !== 0) throw this.fail('a field/value list');
    const out: Record<string, string> = {};
    for (let i = 0; i < items.length; i += 2) out[items[i]!.text()] = items[i + 1]!.text();
    return new Fields(out, this.where);
  }
}

/** The fields of a stored hash, read through the same checks as a reply. */
export class Fields {
  constructor(
    private readonly values: Readonly<Record<string, string>>,
    readonly where: string,
  ) {}

  /** Field `name`: a Reply of its value, nil when absent. */
  get(name: string): Reply {
    return new Reply(this.values[name], `${this.where}.${name}`);
  }

  /** True when the hash was empty (the key does not exist). */
  isEmpty(): boolean {
    return Object.keys(this.values).length === 0;
  }
}

/** Parses JSON written by this store; a failure means someone else wrote under the prefix. */
export function parseStoredJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new StoreError('integrity', `Redis store: ${where} is not valid JSON`, { cause, details: { where } });
  }
}
