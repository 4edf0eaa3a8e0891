// The layout of a machine's diagram: rows by longest path from the initial state, no two boxes
// overlapping, one edge per pair of states carrying every input, loops and back edges on the side.
import { defineStateMachine } from '@ironflow/core';
import { describe, expect, it } from 'vitest';
import { edgeLabel, layoutMachine, LABEL_MAX } from '../src/machine-layout.js';

const machine = defineStateMachine({
  initial: 'New',
  states: [{ name: 'New' }, { name: 'Reserving' }, { name: 'Charging' }, { name: 'Compensating' }, { name: 'Cancelled', terminal: true }, { name: 'Done', terminal: true }],
  transitions: [
    { from: 'New', to: 'Reserving', input: 'Place' },
    { from: 'Reserving', to: 'Charging', input: 'Reserved' },
    { from: 'Reserving', to: 'Cancelled', input: 'Unavailable' },
    { from: 'Charging', to: 'Done', input: 'Paid' },
    { from: 'Charging', to: 'Compensating', input: 'Declined' },
    { from: 'Charging', to: 'Compensating', input: 'DeadlinePassed' },
    { from: 'Compensating', to: 'Compensating', input: 'Released' },
    { from: 'Compensating', to: 'Cancelled', input: 'Settled' },
    { from: 'Compensating', to: 'Charging', input: 'Retry' },
  ],
});

describe('machine layout', () => {
  const layout = layoutMachine(machine);
  const node = (name: string) => layout.nodes.find((n) => n.name === name)!;

  it('puts each state one row below the longest path to it, back edges aside', () => {
    const rowOf = (name: string) => node(name).y;
    expect(rowOf('New')).toBeLessThan(rowOf('Reserving'));
    expect(rowOf('Reserving')).toBeLessThan(rowOf('Charging'));
    expect(rowOf('Charging')).toBeLessThan(rowOf('Compensating'));
    // Cancelled is reached from Reserving too, but the longest way is through Compensating.
    expect(rowOf('Compensating')).toBeLessThan(rowOf('Cancelled'));
    expect(rowOf('Done')).toBe(rowOf('Compensating'));
    expect(node('New').initial).toBe(true);
    expect(node('Done').terminal).toBe(true);
  });

  it('keeps every box inside the drawing and apart from the others', () => {
    for (const a of layout.nodes) {
      expect(a.x).toBeGreaterThanOrEqual(0);
      expect(a.x + a.width).toBeLessThanOrEqual(layout.width);
      expect(a.y + a.height).toBeLessThanOrEqual(layout.height);
      for (const b of layout.nodes) {
        if (a === b) continue;
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${a.name} overlaps ${b.name}`).toBe(true);
      }
    }
  });

  it('draws one edge per pair of states with all their inputs; loops and back edges leave on the right', () => {
    expect(layout.edges.map((e) => `${e.from}>${e.to}:${e.inputs.join('|')}`)).toEqual([
      'New>Reserving:Place',
      'Reserving>Charging:Reserved',
      'Reserving>Cancelled:Unavailable',
      'Charging>Done:Paid',
      'Charging>Compensating:Declined|DeadlinePassed',
      'Compensating>Compensating:Released',
      'Compensating>Cancelled:Settled',
      'Compensating>Charging:Retry',
    ]);
    const loop = layout.edges.find((e) => e.from === 'Compensating' && e.to === 'Compensating')!;
    const back = layout.edges.find((e) => e.to === 'Charging' && e.from === 'Compensating')!;
    for (const edge of [loop, back]) {
      expect(edge.anchor).toBe('start');
      expect(edge.labelX).toBeGreaterThan(node(edge.from).x + node(edge.from).width);
    }
    expect(layoutMachine(machine)).toEqual(layout);
  });

  it('cuts long labels with a count of the inputs left out', () => {
    expect(edgeLabel(['A', 'B'])).toBe('A, B');
    const label = edgeLabel(['PaymentDeadlinePassed', 'CancelOrder', 'PaymentDeclined', 'PaymentFailed']);
    expect(label).toBe('PaymentDeadlinePassed +3');
    expect(edgeLabel(['AVeryLongInputNameThatIsLongerThanTheLimitAlone'])).toHaveLength(47);
    expect(LABEL_MAX).toBe(30);
  });
});
