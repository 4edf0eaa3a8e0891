// The path an instance took. With its workflow's declared state machine: the machine drawn as an SVG
// made here on the server (states it went through and the one it is in highlighted, the transitions
// it took drawn bold), its steps, the machine's transitions, and the Mermaid text. Without one: the
// decisions it went through, one row per commit, read from the stored events alone.
import { h, Fragment } from 'preact';
import type { InstancePath, StateMachine, TransitionDefinition } from '@ironflow/core';
import type { StoredEvent } from '@ironflow/core/store';
import type { PageContext } from '../context.js';
import { LABEL_CHAR, edgeLabel, type MachineLayout } from '../machine-layout.js';
import { Badge, Time } from './components.js';

/** One decision of an instance: the input kind and the events its commit wrote. */
export interface DecisionStep {
  readonly inputType?: string | undefined;
  readonly events: readonly string[];
  readonly at: number;
  readonly firstSequence: number;
}

/** What the path section shows. */
export type MachineView =
  | { readonly kind: 'decisions'; readonly steps: readonly DecisionStep[]; readonly note?: string | undefined }
  | { readonly kind: 'machine'; readonly machine: StateMachine; readonly layout: MachineLayout; readonly path: InstancePath; readonly mermaid: string };

/** Groups an instance's events into the decisions that wrote them (events of one commit share their metadata and time). */
export function decisionsOf(events: readonly StoredEvent[]): DecisionStep[] {
  const steps: { inputType?: string | undefined; events: string[]; at: number; firstSequence: number; key: string }[] = [];
  for (const event of events) {
    const { inputType, causedBy, idempotencyKey, decidedAt } = event.metadata;
    const key = JSON.stringify([event.recordedAt, decidedAt, inputType ?? null, causedBy?.kind ?? null, causedBy?.id ?? null, idempotencyKey ?? null]);
    const last = steps.at(-1);
    if (last !== undefined && last.key === key) last.events.push(event.type);
    else steps.push({ inputType, events: [event.type], at: event.recordedAt, firstSequence: event.sequence, key });
  }
  return steps.map(({ key: _key, ...step }) => step);
}

/** Whether the path took this transition (a step without a recorded input matches any between its states). */
const took = (path: InstancePath, t: Pick<TransitionDefinition, 'from' | 'to'> & { inputs: readonly string[] }): boolean =>
  path.steps.some((s) => s.from === t.from && s.to === t.to && (s.inputType === undefined || t.inputs.includes(s.inputType)));

function Diagram(props: { layout: MachineLayout; path: InstancePath; machine: StateMachine }) {
  const { layout, path, machine } = props;
  const visited = new Set(path.steps.flatMap((s) => [s.from, s.to]));
  const descriptions = new Map(machine.states.map((s) => [s.name, s.description]));
  return h(
    'svg',
    {
      class: 'machine',
      id: 'machine',
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      width: layout.width,
      height: layout.height,
      role: 'img',
      'aria-label': `State machine, now in ${path.current}`,
    },
    h(
      'defs',
      null,
      arrowMarker('arrow'),
      arrowMarker('arrow-taken', 'taken'),
    ),
    layout.edges.map((edge) => {
      const taken = took(path, edge);
      const label = edgeLabel(edge.inputs);
      const width = label.length * LABEL_CHAR + 6;
      const left = edge.anchor === 'middle' ? edge.labelX - width / 2 : edge.labelX - 3;
      return h(
        'g',
        { class: taken ? 'edge taken' : 'edge', 'data-from': edge.from, 'data-to': edge.to },
        h('title', null, `${edge.from} → ${edge.to}: ${edge.inputs.join(', ')}`),
        h('path', { d: edge.path, 'marker-end': taken ? 'url(#arrow-taken)' : 'url(#arrow)' }),
        h('rect', { class: 'label-bg', x: left, y: edge.labelY - 8, width, height: 14, rx: 3 }),
        h('text', { x: edge.labelX, y: edge.labelY + 3.5, 'text-anchor': edge.anchor }, label),
      );
    }),
    layout.nodes.map((node) => {
      const classes = ['node', node.name === path.current ? 'current' : visited.has(node.name) ? 'visited' : '', node.terminal ? 'terminal' : '']
        .filter(Boolean)
        .join(' ');
      const description = descriptions.get(node.name);
      return h(
        'g',
        { class: classes, 'data-state': node.name },
        h('title', null, description === undefined ? node.name : `${node.name}: ${description}`),
        node.initial
          ? h(
              Fragment,
              null,
              h('circle', { class: 'start', cx: node.x + node.width / 2, cy: node.y - 18, r: 5 }),
              h('line', { class: 'start', x1: node.x + node.width / 2, y1: node.y - 13, x2: node.x + node.width / 2, y2: node.y }),
            )
          : null,
        h('rect', { x: node.x, y: node.y, width: node.width, height: node.height, rx: 6 }),
        node.terminal ? h('rect', { class: 'inner', x: node.x + 3, y: node.y + 3, width: node.width - 6, height: node.height - 6, rx: 4 }) : null,
        h('text', { x: node.x + node.width / 2, y: node.y + node.height / 2 + 4, 'text-anchor': 'middle' }, node.name),
      );
    }),
  );
}

function MachinePath(props: { ctx: PageContext; view: Extract<MachineView, { kind: 'machine' }> }) {
  const { ctx, view } = props;
  return h(
    Fragment,
    null,
    h('h2', null, 'State machine'),
    h(
      'p',
      { class: 'hint' },
      'Now in ',
      h(Badge, { status: view.path.current }),
      view.path.terminal ? ' (a terminal state)' : '',
      '. States it went through are shaded, the transitions it took drawn bold; hover an edge for all its inputs.',
    ),
    h(Diagram, { layout: view.layout, path: view.path, machine: view.machine }),
    h('h2', null, 'Path taken'),
    view.path.steps.length === 0
      ? h('p', { class: 'muted' }, 'No status change yet.')
      : h(
          'table',
          { id: 'path' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { class: 'num' }, 'Event'),
              h('th', null, 'From'),
              h('th', null, 'To'),
              h('th', null, 'Input'),
              h('th', null, 'Event type'),
              h('th', null, 'At'),
            ),
          ),
          h(
            'tbody',
            null,
            view.path.steps.map((step) =>
              h(
                'tr',
                null,
                h('td', { class: 'num' }, step.sequence),
                h('td', null, step.from),
                h('td', null, step.to),
                h('td', null, step.inputType ?? h('span', { class: 'muted' }, '(not recorded)')),
                h('td', null, step.eventType),
                h('td', null, h(Time, { ctx, at: step.at })),
              ),
            ),
          ),
        ),
    h(
      'details',
      null,
      h('summary', null, 'Every transition of the machine'),
      h(
        'table',
        { id: 'transitions' },
        h('thead', null, h('tr', null, h('th', null, 'From'), h('th', null, 'Input'), h('th', null, 'To'), h('th', null, 'Effects'), h('th', null, 'Timers'))),
        h(
          'tbody',
          null,
          view.machine.transitions.map((t) =>
            h(
              'tr',
              { class: took(view.path, { from: t.from, to: t.to, inputs: [t.input] }) ? 'visited' : undefined },
              h('td', null, t.from),
              h('td', null, t.input),
              h('td', null, t.to),
              h('td', null, (t.effects ?? []).join(', ')),
              h('td', null, (t.timers ?? []).join(', ')),
            ),
          ),
        ),
      ),
    ),
    h('details', null, h('summary', null, 'Mermaid'), h('pre', { id: 'mermaid' }, view.mermaid)),
  );
}

/** The instance page's section on the path taken, with the machine when there is one. */
export function MachineSection(props: { ctx: PageContext; view: MachineView }) {
  const { ctx, view } = props;
  if (view.kind === 'machine') return h(MachinePath, { ctx, view });
  return h(
    Fragment,
    null,
    h('h2', null, 'Path taken'),
    view.note === undefined ? null : h('p', { class: 'hint' }, view.note),
    view.steps.length === 0
      ? h('p', { class: 'muted' }, 'No decisions yet.')
      : h(
          'table',
          { id: 'path' },
          h('thead', null, h('tr', null, h('th', { class: 'num' }, 'Step'), h('th', null, 'Input'), h('th', null, 'Events written'), h('th', null, 'At'))),
          h(
            'tbody',
            null,
            view.steps.map((step, index) =>
              h(
                'tr',
                null,
                h('td', { class: 'num' }, index + 1),
                h('td', null, step.inputType ?? h('span', { class: 'muted' }, '(not recorded)')),
                h('td', null, step.events.join(', ')),
                h('td', null, h(Time, { ctx, at: step.at })),
              ),
            ),
          ),
        ),
  );
}

/** An arrowhead for the edges; `taken` ones are styled as the path the instance went. */
function arrowMarker(id: string, className?: string) {
  return h(
    'marker',
    {
      id,
      ...(className === undefined ? {} : { class: className }),
      viewBox: '0 0 10 10',
      refX: '9',
      refY: '5',
      markerUnits: 'userSpaceOnUse',
      markerWidth: '9',
      markerHeight: '9',
      orient: 'auto-start-reverse',
    },
    h('path', { d: 'M0,0 L10,5 L0,10 z' }),
  );
}
