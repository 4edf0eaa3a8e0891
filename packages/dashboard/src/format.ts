// How values are shown: times in UTC with how long ago, durations, JSON pretty-printed and cut at a
// size a page can hold. Everything returns plain text; the pages escape it when they render it.

/** Longest JSON text shown for one value; the rest is cut with a note. */
export const MAX_JSON_CHARS = 20_000;

/** `2025-01-31 12:00:05.123Z`. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  return new Date(ms).toISOString().replace('T', ' ');
}

/** `1.2 s`, `3 min`, `2.5 h`, `4 d`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(abs)} ms`;
  if (abs < 60_000) return `${(abs / 1_000).toFixed(1)} s`;
  if (abs < 3_600_000) return `${(abs / 60_000).toFixed(1)} min`;
  if (abs < 86_400_000) return `${(abs / 3_600_000).toFixed(1)} h`;
  return `${(abs / 86_400_000).toFixed(1)} d`;
}

/** `3.0 s ago` or `in 5.0 min`. */
export function relative(ms: number, now: number): string {
  const delta = now - ms;
  return delta >= 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(delta)}`;
}

/** A value as indented JSON, cut to MAX_JSON_CHARS. */
export function prettyJson(value: unknown): { text: string; truncated: boolean } {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : (JSON.stringify(value, null, 2) ?? String(value));
  } catch (error) {
    text = `(not JSON: ${error instanceof Error ? error.message : String(error)})`;
  }
  return text.length > MAX_JSON_CHARS ? { text: text.slice(0, MAX_JSON_CHARS), truncated: true } : { text, truncated: false };
}

/**
 * A short name for an effect payload or timer input: its `type` field, or what the runtime's own
 * effects do (`start shipment`, `child ended`).
 */
export function kindOf(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null) return typeof payload;
  const record = payload as Record<string, unknown>;
  if ('$ironflow' in record) {
    if (record.$ironflow === 'start' && typeof record.workflowType === 'string') return `start ${record.workflowType}`;
    if (record.$ironflow === 'child-ended') return 'child ended';
    return String(record.$ironflow);
  }
  return typeof record.type === 'string' ? record.type : '(object)';
}

/** A number with thousands separators; rates with one decimal. */
export function formatCount(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(1);
}

/** A feed position short enough for a table cell: its start and end around an ellipsis (show the whole in a title). */
export function shortPosition(position: string): string {
  return position.length <= 16 ? position : `${position.slice(0, 7)}…${position.slice(-7)}`;
}

/** Events behind: `1,204`, or `≥10,000` when the count stopped at its limit. */
export function formatLag(lag: { readonly events: number; readonly capped: boolean }): string {
  return `${lag.capped ? '≥' : ''}${formatCount(lag.events)}`;
}
