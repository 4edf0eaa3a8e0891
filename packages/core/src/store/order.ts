// The one order of ids and keys every store uses: Unicode code points, which is the UTF-8 byte
// order PostgreSQL's COLLATE "C" and Redis use. JavaScript's `<` compares UTF-16 code units and
// disagrees for characters above U+FFFF against U+E000–U+FFFF.

/**
 * Compares two strings by code point (= UTF-8 bytes); negative, 0 or positive like a sort comparator.
 * @example ['\u{10000}', '\uE000'].sort(compareIds) // ['\uE000', '\u{10000}']
 */
export function compareIds(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // At the first differing unit, the code points that start there order the strings; inside a
    // pair whose high halves were equal, the low halves compare like the code points.
    return (a.codePointAt(i) ?? x) - (b.codePointAt(i) ?? y);
  }
  return a.length - b.length;
}
