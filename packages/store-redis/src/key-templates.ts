// The keys of one partition, written once as templates: src/keys.ts fills them in TypeScript and
// the Lua preamble's key builders are generated from them, so the two sides cannot disagree.

/**
 * Every key of a partition as a template of what follows the partition's hash tag and a `:`.
 * Segments are separated by `:`; a segment is a literal, a parameter `$name`, or `$ref(a,b)`:
 * two parameters written `<UTF-8 byte length of a>:a:b`, which cannot be read two ways. The first
 * segment names the key's kind (all distinct), and a free-form parameter (a type, id or key) is
 * only ever the last component of the key or of a `$ref`, so keys of different kinds or
 * parameters never coincide.
 */
export const KEY_TEMPLATES = {
  /** Hash: version, status, timestamps, unique key, snapshot of an instance. */
  instance: 'i:$ref(t,id)',
  /** List of event JSON, index = sequence - 1. */
  events: 'ev:$ref(t,id)',
  /** List of the feed stream ids of an instance's events, in sequence order: what deleteInstance removes from the feed. */
  feedEntries: 'fe:$ref(t,id)',
  /** Hash: idempotency key → record JSON. */
  idempotency: 'id:$ref(t,id)',
  /** Sorted set of the partition's idempotency records (`<type>\0<id>\0<key>`) by `committedAt`, for their retention. */
  idempotencyTimes: 'it',
  /** List of observation JSON. */
  observations: 'ob:$ref(t,id)',
  /** Sorted set of an instance's effect or timer ids by `createdAt`. */
  owned: 'o:$k:$ref(t,id)',
  /** Hash: timer key → id of the pending or leased timer holding it. */
  timerKeys: 'tk:$ref(t,id)',
  /** Hash: effect key → id of the pending or leased effect holding it. */
  effectKeys: 'ek:$ref(t,id)',
  /** Hash: unique key → reservation token refused for this instance (partitions > 1). */
  uniqueBlocks: 'ub:$ref(t,id)',
  /** Hash: who holds a unique key of a workflow type. */
  unique: 'u:$ref(t,key)',
  /** Hash of one effect or timer. */
  item: 'w:$k:$id',
  /** Lexicographic index of every effect or timer id of the partition, for pages of work in id order. */
  work: 'wk:$k',
  /** Sorted set of claimable ids of one workflow type by `availableAt`: timers, and effects of priority 0. */
  pending: 'q:$k:$t',
  /** Sorted set of claimable effect ids of one workflow type and one priority other than 0, by `availableAt`. */
  ranked: 'qr:$p:$t',
  /** Sorted set of claimable effect ids of one workflow type, priority and tag, by `availableAt` (also in `pending`/`ranked`). */
  tagged: 'qg:$p:$ref(t,g)',
  /** Set of the priorities other than 0 that may have a `ranked` queue in one workflow type. */
  priorities: 'pp:$t',
  /** Hash: pause → since (epoch ms); `<type>\0` pauses a type (kept in every partition), `<type>\0<id>` an instance (in its partition). */
  pauses: 'ps',
  /** Sorted set of leased ids of one workflow type by lease expiry. */
  leased: 'l:$k:$t',
  /** Lexicographic index of all dead letters of a kind. */
  deadAll: 'd:$k',
  /** Lexicographic index of the dead letters of a kind and workflow type. */
  deadOfType: 'd:$k:$t',
  /** Sorted set of finished ids (done, fired, cancelled) by `updatedAt`, for `purge`. */
  finished: 'f:$k',
  /** Lexicographic index of instances of a status (`a` active, `c` completed, `x` cancelled). */
  instancesAll: 'x:$s',
  /** Lexicographic index of instances of a status and workflow type. */
  instancesOfType: 'x:$s:$t',
  /** Lexicographic index of instances of a status as `<type>\0<id>`: pages in (type, id) order. */
  names: 'n:$s',
  /** Lexicographic index of the children (`<type>\0<id>`) of an instance, kept in each child's partition. */
  children: 'ch:$ref(t,id)',
  /** Hash: lease token → how a cross-partition acknowledgement ended (this partition is its target). */
  handoffs: 'h:$k:$id',
  /** Stream of the partition's committed events in commit order, one entry (t type, i id, s sequence) per event: the global feed. */
  feed: 'feed',
  /** Lexicographic index of the names of the projections whose keys live in this partition: listProjections reads it. */
  projections: 'pjn',
  /** Hash: one projection's checkpoint and lease (t token, o owner, x expiry, u updatedAt, p position). */
  projection: 'pj:$n',
  /** Hash of one dead letter of a projection: its fields, status, parkedAt and updatedAt. */
  projectionLetter: 'pjd:$ref(n,id)',
  /** Lexicographic index of every dead letter id of a projection: pages in id order, and its count. */
  projectionLetters: 'pjl:$n',
  /** Lexicographic index of a projection's dead letter ids of one status (`p` parked, `r` redriven). */
  projectionLettersOf: 'pjs:$s:$n',
} as const;

/** The name of a partition key template. */
export type KeyName = keyof typeof KEY_TEMPLATES;

type SegmentParams<S extends string> = S extends `$ref(${infer A},${infer B})` ? A | B : S extends `$${infer P}` ? P : never;
type TemplateParams<T extends string> = T extends `${infer Head}:${infer Rest}` ? SegmentParams<Head> | TemplateParams<Rest> : SegmentParams<T>;

/** The parameters of a key template, by name: `fillKey(tag, 'pending', { k: 'e', t: 'order' })`. */
export type KeyParams<N extends KeyName> = Record<TemplateParams<(typeof KEY_TEMPLATES)[N]>, string>;

type Segment = { readonly literal: string } | { readonly param: string } | { readonly ref: readonly [string, string] };

const REF = /^\$ref\(([a-z]+),([a-z]+)\)$/;
const PARAM = /^\$([a-z]+)$/;

function segmentsOf(template: string): Segment[] {
  return template.split(':').map((segment): Segment => {
    const ref = REF.exec(segment);
    if (ref !== null) return { ref: [ref[1] ?? '', ref[2] ?? ''] };
    const param = PARAM.exec(segment);
    return param === null ? { literal: segment } : { param: param[1] ?? '' };
  });
}

/** Fills one template under a tag: compiled once per template, since every commit builds 18 keys. */
type Filler = (tag: string, values: Readonly<Record<string, string>>, name: string) => string;

function compile(segments: readonly Segment[]): Filler {
  const value = (values: Readonly<Record<string, string>>, param: string, name: string): string => {
    const v = values[param];
    if (v === undefined) throw new TypeError(`key ${name} needs the parameter ${param}`);
    return v;
  };
  return (tag, values, name) => {
    let key = tag;
    for (const s of segments) {
      key += ':';
      if ('literal' in s) key += s.literal;
      else if ('param' in s) key += value(values, s.param, name);
      else key += refSegment(value(values, s.ref[0], name), value(values, s.ref[1], name));
    }
    return key;
  };
}

const SEGMENTS = new Map<string, Segment[]>(Object.entries(KEY_TEMPLATES).map(([name, template]) => [name, segmentsOf(template)]));
const FILLERS = new Map<string, Filler>([...SEGMENTS].map(([name, segments]) => [name, compile(segments)]));

/** Byte length of a string in UTF-8, which is what Lua's `#` measures. */
export function utf8Length(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** Encodes a pair without ambiguity: `<utf8 length of a>:<a>:<b>`, the free-form `b` last. */
export function refSegment(a: string, b: string): string {
  return `${utf8Length(a)}:${a}:${b}`;
}

/** Builds the key `name` of the partition whose hash tag is `tag`. */
export function fillKey<N extends KeyName>(tag: string, name: N, params: KeyParams<N>): string {
  const fill = FILLERS.get(name);
  if (fill === undefined) throw new TypeError(`no key template ${name}`);
  return fill(tag, params, name);
}

/** The Lua function that builds key `name` under TAG, e.g. `local function pendingKey(k, t) return TAG .. ':q:' .. k .. ':' .. t end`. */
export function luaKeyBuilder(name: KeyName): string {
  const segments = SEGMENTS.get(name) ?? [];
  const params = [...new Set(segments.flatMap((s) => ('param' in s ? [s.param] : 'ref' in s ? [...s.ref] : [])))];
  const parts = segments.map((s) => ('literal' in s ? `'${s.literal}'` : 'param' in s ? s.param : `ref(${s.ref[0]}, ${s.ref[1]})`));
  return `local function ${name}Key(${params.join(', ')}) return TAG .. ':' .. ${parts.join(" .. ':' .. ")} end`;
}

/** The Lua key builders of every template, one definition each, after the `ref` encoding they share. */
export function luaKeyBuilders(): string[] {
  const names = Object.keys(KEY_TEMPLATES) as KeyName[];
  return [`local function ref(a, b) return #a .. ':' .. a .. ':' .. b end`, ...names.map(luaKeyBuilder)];
}
