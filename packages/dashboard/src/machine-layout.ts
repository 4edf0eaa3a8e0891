// A layered, top-to-bottom layout of a workflow's state machine for the instance page's SVG, in the
// manner of Graphviz's dot: states in rows by their longest distance from the initial state (back
// edges aside), an edge that skips rows bent through a waypoint in each row it crosses (so it never
// runs through a box), rows ordered by the mean position of their neighbours, then each item pulled
// toward its neighbours without overlapping. Transitions between the same two states are one edge
// labelled with their inputs. Plain geometry, computed on the server: no layout library and no
// script in the browser.
import type { StateMachine } from '@ironflow/core';

/** A state's box. */
export interface LaidNode {
  readonly name: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly terminal: boolean;
  readonly initial: boolean;
}

/** The transitions from one state to another (or to itself), as one drawn edge. */
export interface LaidEdge {
  readonly from: string;
  readonly to: string;
  /** The inputs of the transitions it stands for, in declaration order. */
  readonly inputs: readonly string[];
  /** SVG path data. */
  readonly path: string;
  /** Where the label goes. */
  readonly labelX: number;
  readonly labelY: number;
  /** `middle` for labels centred on a downward edge, `start` for labels right of a loop or back edge. */
  readonly anchor: 'middle' | 'start';
}

/** The drawing: its size, the boxes and the edges. */
export interface MachineLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly LaidNode[];
  readonly edges: readonly LaidEdge[];
}

const NODE_HEIGHT = 34;
const NODE_MIN_WIDTH = 96;
const GAP = 28;
const ROW_GAP = 86;
const MARGIN = 28;
/** A waypoint's width: the room an edge passing through a row takes. */
const WAYPOINT = 14;
/** Labels sit this far along the first stretch of a downward edge (toward its end, where fanned-out edges are furthest apart). */
const LABEL_AT = 0.68;
/** Rough width of a character of the node font (12px). */
export const NODE_CHAR = 7.4;
/** Rough width of a character of the label font (10.5px). */
export const LABEL_CHAR = 6.2;
/** Longest label drawn; longer lists are cut (the full list is in the edge's tooltip and the table). */
export const LABEL_MAX = 30;

/** The label drawn on an edge: its inputs, cut to LABEL_MAX characters with a count of the rest. */
export function edgeLabel(inputs: readonly string[]): string {
  let label = '';
  for (let i = 0; i < inputs.length; i++) {
    const next = label === '' ? inputs[i]! : `${label}, ${inputs[i]!}`;
    if (next.length > LABEL_MAX && label !== '') return `${label} +${inputs.length - i}`;
    label = next;
  }
  return label;
}

/** Width of a label as drawn, padding included. */
const labelWidth = (inputs: readonly string[]): number => edgeLabel(inputs).length * LABEL_CHAR + 8;

/** Rows by longest path from the initial state over forward edges (found by a depth-first walk). */
function rowsOf(machine: StateMachine): Map<string, number> {
  const names = machine.states.map((s) => s.name);
  const out = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const t of machine.transitions) if (t.from !== t.to && !out.get(t.from)!.includes(t.to)) out.get(t.from)!.push(t.to);
  // Back edges close cycles; without them the graph is acyclic and longest paths exist.
  const forward = new Map<string, string[]>(names.map((n) => [n, []]));
  const state = new Map<string, 'open' | 'done'>();
  const order: string[] = [];
  const visit = (name: string) => {
    state.set(name, 'open');
    for (const next of out.get(name)!) {
      if (state.get(next) === 'open') continue;
      forward.get(name)!.push(next);
      if (!state.has(next)) visit(next);
    }
    state.set(name, 'done');
    order.push(name);
  };
  visit(machine.initial);
  for (const name of names) if (!state.has(name)) visit(name);
  // Reverse post-order is a topological order of the forward edges.
  const row = new Map<string, number>(names.map((n) => [n, 0]));
  for (const name of order.reverse()) for (const next of forward.get(name)!) row.set(next, Math.max(row.get(next)!, row.get(name)! + 1));
  return row;
}

/** A box or a waypoint in a row. */
interface Item {
  readonly key: string;
  readonly row: number;
  readonly width: number;
  /** Room a self-loop and its label take on the right. */
  readonly loop: number;
  /** Width of the label of the edge stretch that ends here, for spacing. */
  label: number;
  x: number;
  readonly up: Item[];
  readonly down: Item[];
}

/** Lays the machine out; deterministic for a given machine. */
export function layoutMachine(machine: StateMachine): MachineLayout {
  const row = rowsOf(machine);
  const groups = new Map<string, { from: string; to: string; inputs: string[] }>();
  for (const t of machine.transitions) {
    const key = JSON.stringify([t.from, t.to]);
    const group = groups.get(key) ?? { from: t.from, to: t.to, inputs: [] };
    if (!group.inputs.includes(t.input)) group.inputs.push(t.input);
    groups.set(key, group);
  }
  const loops = new Map([...groups.values()].filter((g) => g.from === g.to).map((g) => [g.from, 34 + labelWidth(g.inputs)]));

  const items = new Map<string, Item>();
  const rows: Item[][] = [];
  const add = (item: Item) => {
    items.set(item.key, item);
    (rows[item.row] ??= []).push(item);
  };
  for (const state of machine.states) {
    add({ key: state.name, row: row.get(state.name)!, width: Math.max(NODE_MIN_WIDTH, Math.ceil(state.name.length * NODE_CHAR) + 28), loop: loops.get(state.name) ?? 0, label: 0, x: 0, up: [], down: [] });
  }
  // Downward edges: a chain through a waypoint in every row they cross.
  const chains = new Map<string, Item[]>();
  for (const [key, g] of groups) {
    if (row.get(g.to)! <= row.get(g.from)!) continue;
    const chain = [items.get(g.from)!];
    for (let r = row.get(g.from)! + 1; r < row.get(g.to)!; r++) {
      const waypoint: Item = { key: `${key}@${r}`, row: r, width: WAYPOINT, loop: 0, label: 0, x: 0, up: [], down: [] };
      add(waypoint);
      chain.push(waypoint);
    }
    chain.push(items.get(g.to)!);
    for (let i = 0; i + 1 < chain.length; i++) {
      chain[i]!.down.push(chain[i + 1]!);
      chain[i + 1]!.up.push(chain[i]!);
    }
    chain[1]!.label = Math.max(chain[1]!.label, labelWidth(g.inputs));
    chains.set(key, chain);
  }

  // Order each row by the mean index of its neighbours, sweeping down and up a few times.
  const index = (item: Item) => rows[item.row]!.indexOf(item);
  const mean = (xs: number[]) => (xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);
  for (let sweep = 0; sweep < 6; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? rows.keys() : [...rows.keys()].reverse();
    for (const r of order) {
      const current = rows[r]!;
      const keyOf = new Map(current.map((item, i) => [item, mean((down ? item.up : item.down).map(index)) ?? i]));
      current.sort((a, b) => keyOf.get(a)! - keyOf.get(b)!);
    }
  }

  // Place each row left to right, then pull items toward their neighbours without overlapping.
  const separation = (a: Item, b: Item) => Math.max(a.width / 2 + a.loop + GAP + b.width / 2, (a.label + b.label) / 2 / LABEL_AT + 6);
  const place = (current: Item[], wanted: number[]) => {
    for (let i = 0; i < current.length; i++) current[i]!.x = i === 0 ? wanted[0]! : Math.max(wanted[i]!, current[i - 1]!.x + separation(current[i - 1]!, current[i]!));
    for (let i = current.length - 2; i >= 0; i--) current[i]!.x = Math.min(current[i]!.x, current[i + 1]!.x - separation(current[i]!, current[i + 1]!));
  };
  for (const current of rows) place(current, current.map(() => 0));
  for (let pass = 0; pass < 8; pass++) {
    const down = pass % 2 === 0;
    const order = down ? [...rows.keys()] : [...rows.keys()].reverse();
    for (const r of order) {
      const current = rows[r]!;
      place(
        current,
        current.map((item) => mean((down ? item.up : item.down).map((n) => n.x)) ?? mean([...item.up, ...item.down].map((n) => n.x)) ?? item.x),
      );
    }
  }
  const left = Math.min(...[...items.values()].map((i) => i.x - i.width / 2));
  for (const item of items.values()) item.x += MARGIN - left;
  const right = Math.max(...[...items.values()].map((i) => i.x + i.width / 2 + i.loop));

  const rowY = (r: number) => MARGIN + r * (NODE_HEIGHT + ROW_GAP);
  const terminal = new Set(machine.states.filter((s) => s.terminal === true).map((s) => s.name));
  const nodes: LaidNode[] = machine.states.map((state) => {
    const item = items.get(state.name)!;
    return { name: state.name, x: item.x - item.width / 2, y: rowY(item.row), width: item.width, height: NODE_HEIGHT, terminal: terminal.has(state.name), initial: state.name === machine.initial };
  });

  const r = (n: number) => Math.round(n * 10) / 10;
  /** A vertical S-curve from (x1, y1) down to (x2, y2). */
  const curve = (x1: number, y1: number, x2: number, y2: number) => {
    const bend = (y2 - y1) / 2;
    return { d: `C${r(x1)},${r(y1 + bend)} ${r(x2)},${r(y2 - bend)} ${r(x2)},${r(y2)}`, at: (t: number) => bezier(t, [x1, y1], [x1, y1 + bend], [x2, y2 - bend], [x2, y2]) };
  };
  let backEdges = 0;
  const edges: LaidEdge[] = [];
  for (const [key, { from, to, inputs }] of groups) {
    const a = items.get(from)!;
    if (from === to) {
      // A loop on the box's right side.
      const x = a.x + a.width / 2;
      const y = rowY(a.row) + NODE_HEIGHT / 2;
      edges.push({ from, to, inputs, path: `M${r(x)},${r(y - 8)} C${r(x + 34)},${r(y - 26)} ${r(x + 34)},${r(y + 26)} ${r(x)},${r(y + 8)}`, labelX: r(x + 30), labelY: r(y), anchor: 'start' });
      continue;
    }
    const chain = chains.get(key);
    if (chain !== undefined) {
      // Down through the waypoints: curves between rows, straight through the rows crossed.
      let d = `M${r(chain[0]!.x)},${r(rowY(chain[0]!.row) + NODE_HEIGHT)}`;
      let label: [number, number] | undefined;
      for (let i = 1; i < chain.length; i++) {
        const above = chain[i - 1]!;
        const below = chain[i]!;
        const stretch = curve(above.x, rowY(above.row) + NODE_HEIGHT, below.x, rowY(below.row));
        d += ` ${stretch.d}`;
        label ??= stretch.at(LABEL_AT);
        if (i < chain.length - 1) d += ` L${r(below.x)},${r(rowY(below.row) + NODE_HEIGHT)}`;
      }
      edges.push({ from, to, inputs, path: d, labelX: r(label![0]), labelY: r(label![1]), anchor: 'middle' });
      continue;
    }
    // Upwards or within a row (a back edge): out of the right side, round a lane of its own, back in.
    const b = items.get(to)!;
    const x1 = a.x + a.width / 2;
    const y1 = rowY(a.row) + NODE_HEIGHT / 2;
    const x2 = b.x + b.width / 2;
    const y2 = rowY(b.row) + NODE_HEIGHT / 2;
    const out = right + 40 + 28 * backEdges++;
    // The curve's rightmost point (t = 1/2) is at 3/4 of `out` plus 1/8 of each end.
    const extreme = 0.75 * out + 0.125 * (x1 + x2);
    edges.push({ from, to, inputs, path: `M${r(x1)},${r(y1)} C${r(out)},${r(y1)} ${r(out)},${r(y2)} ${r(x2)},${r(y2)}`, labelX: r(extreme + 6), labelY: r((y1 + y2) / 2), anchor: 'start' });
  }
  const backLabels = edges.filter((e) => e.anchor === 'start' && e.from !== e.to).map((e) => e.labelX + labelWidth(e.inputs));
  const width = Math.ceil(Math.max(right, ...backLabels) + MARGIN);
  const height = MARGIN * 2 + rows.length * NODE_HEIGHT + (rows.length - 1) * ROW_GAP;
  return { width, height, nodes, edges };
}

/** A point of a cubic Bézier curve. */
function bezier(t: number, p0: [number, number], p1: [number, number], p2: [number, number], p3: [number, number]): [number, number] {
  const u = 1 - t;
  const at = (i: 0 | 1) => u * u * u * p0[i] + 3 * u * u * t * p1[i] + 3 * u * t * t * p2[i] + t * t * t * p3[i];
  return [at(0), at(1)];
}
