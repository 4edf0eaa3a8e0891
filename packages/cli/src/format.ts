// How stored values look in human output: times in UTC, JSON previews cut to a width, statuses in
// a colour per meaning. JSON output never goes through here: it carries the stored values as they are.
import type { WorkflowRef } from '@ironflow/core';
import type { Cell, Style } from './output.js';

/** Epoch ms as `2024-05-01 12:00:03Z`; empty for undefined. */
export function time(ms: number | undefined): string {
  if (ms === undefined) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** A duration in ms as `3d 4h`, `12m 5s`, `800ms`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** A JSON value on one line, cut to `max` characters. */
export function preview(value: unknown, max = 60): string {
  const text = value === undefined ? '' : JSON.stringify(value) ?? String(value);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Text cut to `max` characters (first line only). */
export function clip(text: string | undefined, max = 60): string {
  if (text === undefined) return '';
  const line = text.split('\n')[0] ?? '';
  return line.length <= max && line.length === text.length ? line : `${line.slice(0, max - 1)}…`;
}

/** `type/id`, the way tables show an instance. */
export function ref(r: WorkflowRef | undefined): string {
  return r === undefined ? '' : `${r.type}/${r.id}`;
}

const STATUS_STYLES: Readonly<Record<string, Style>> = {
  active: 'cyan',
  completed: 'green',
  cancelled: 'yellow',
  pending: 'cyan',
  leased: 'blue',
  done: 'green',
  fired: 'green',
  dead: 'red',
  parked: 'red',
  redriven: 'cyan',
};

/** A status, coloured by meaning. */
export function status(value: string): Cell {
  return { text: value, style: STATUS_STYLES[value] };
}
