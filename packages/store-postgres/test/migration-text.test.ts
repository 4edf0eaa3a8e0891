// The text of the schema migrations, checked without a server: a released version never changes
// (later versions reuse its builders, so a change there must not leak back), version 5 writes the
// trace column in every statement that inserts an effect or a timer, and version 6 only lets
// routed results with cancelWork into commit_decisions' set-based path.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/migrations.js';
import { parseSchemaName } from '../src/schema-name.js';

const textOf = (version: number): string => MIGRATIONS.find((m) => m.version === version)!.sql(parseSchemaName('ironflow'));

/** SHA-256 of each released version's text for schema `ironflow`, as released. */
const RELEASED: Record<number, string> = {
  1: '33e27e293b7556df52616dda067d677a6c29259dc9f53b225743689b98a9c60e',
  2: '3bdd5184494792be3d02c27849e0c13cafc4953d67a8a9651290b1d3e3c0fdc8',
  3: '87eefd9c60fc1c66c0e2d66e178a6fe5928d7e647b86808f9625cec5519a2ca9',
  4: '634865319fd878327f066a52812fe22746983803d996f962cd983d2c6e86f7b7',
  5: '39d346d741b5299b58e4c7900d372585e44770a601775c45d2efe2a96a23d073',
};

describe('migration text', () => {
  it.each(Object.entries(RELEASED))('version %s is byte for byte the text it was released with', (version, sha256) => {
    expect(createHash('sha256').update(textOf(Number(version))).digest('hex')).toBe(sha256);
  });

  it('versions are numbered 1, 2, 3… in order', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('version 5 adds a nullable trace column to effects and timers and writes it in every insert of either', () => {
    const text = textOf(5);
    expect(text).toContain('ALTER TABLE "ironflow".effects ADD COLUMN IF NOT EXISTS trace json;');
    expect(text).toContain('ALTER TABLE "ironflow".timers ADD COLUMN IF NOT EXISTS trace json;');
    // Each INSERT's column list, up to its closing parenthesis (the timers' spans two lines).
    const inserts = [...text.matchAll(/INSERT INTO "ironflow"\.(effects|timers)(?: AS t)? \(([^)]*)\)/g)];
    expect(inserts.map(([, table]) => table).sort()).toEqual(['effects', 'effects', 'effects', 'effects', 'timers', 'timers']);
    for (const [insert, , columns] of inserts) expect(columns!.trimEnd().endsWith(', trace'), insert).toBe(true);
    expect(text).toMatch(/DO UPDATE SET [^;]*, trace = EXCLUDED\.trace;/);
    expect(textOf(4)).not.toMatch(/\btrace\b/);
  });

  it('version 6 replaces commit_decisions alone, as version 5 writes it but for the routed path, which admits cancelWork and cancels the work it leaves', () => {
    const text = textOf(6);
    expect([...text.matchAll(/CREATE (?:OR REPLACE )?(FUNCTION|TABLE|INDEX)\b[^(]*/g)].map(([created]) => created.trim())).toEqual(['CREATE OR REPLACE FUNCTION "ironflow".commit_decisions']);
    expect(text).not.toMatch(/ALTER|DROP/);
    const routedPath = (version: number) => textOf(version).match(/-- Fast path, set-based: routed results[\s\S]*-- Every other commit/)![0];
    expect(routedPath(5)).toContain("AND NOT coalesce((c.doc->>'cancelWork')::boolean, false);");
    expect(routedPath(6)).not.toContain("AND NOT coalesce((c.doc->>'cancelWork')::boolean, false)");
    expect(routedPath(6).match(/SET status = 'cancelled'/g)).toHaveLength(2);
    // Everything else is version 5's commit_decisions, word for word.
    const outsideRoutedPath = (version: number) => {
      const fn = textOf(version).match(/CREATE OR REPLACE FUNCTION "ironflow"\.commit_decisions[\s\S]*?\$commit_decisions\$;/)![0];
      return fn.replace(routedPath(version), '');
    };
    expect(outsideRoutedPath(6)).toBe(outsideRoutedPath(5));
  });
});
