// Redis' glob matching (SCAN MATCH, KEYS) re-implemented for tests without a server: `*`, `?`,
// `[abc]`, `[^abc]`, `[a-z]` and `\x`, as in Redis' stringmatchlen (which matches bytes: this
// matches code points, the same for the ASCII patterns the store uses).

function classOf(pattern: string, start: number): { source: string; end: number } {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === '^') {
    negate = true;
    i += 1;
  }
  const parts: string[] = [];
  while (i < pattern.length && pattern[i] !== ']') {
    let c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) c = pattern[++i]!;
    if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
      const [a, b] = [c, pattern[i + 2]!].sort();
      parts.push(`\\u{${a!.codePointAt(0)!.toString(16)}}-\\u{${b!.codePointAt(0)!.toString(16)}}`);
      i += 3;
    } else {
      parts.push(`\\u{${c.codePointAt(0)!.toString(16)}}`);
      i += 1;
    }
  }
  return { source: `[${negate ? '^' : ''}${parts.join('')}]`, end: i };
}

/** A RegExp that matches exactly the strings Redis' glob `pattern` matches. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else if (c === '[') {
      const cls = classOf(pattern, i);
      source += cls.source;
      i = cls.end;
    } else {
      const literal = c === '\\' && i + 1 < pattern.length ? pattern[++i]! : c;
      source += literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 'u');
}
