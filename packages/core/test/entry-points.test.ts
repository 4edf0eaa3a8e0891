// The root entry is the workflow-authoring API; store authors use /store, runtimes /engine. This
// pins the root's names so internals cannot creep back into what every user imports.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

function exportedNames(file: string): string[] {
  const text = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
  return [...text.matchAll(/export (?:type )?\{([^}]*)\}/g)]
    .flatMap((m) => (m[1] ?? '').split(','))
    .map((name) => name.trim())
    .filter(Boolean)
    .sort();
}

describe('entry points', () => {
  it('the root exports exactly the authoring API', () => {
    expect(exportedNames('index.ts')).toEqual(
      [
        'AnyWorkflow', 'CancelNotice', 'Clock', 'DeadLetterNotice', 'DecideContext', 'Decision', 'EffectOf', 'EventOf', 'InputOf', 'IronflowError',
        'IronflowErrorCode', 'ManualClock', 'NonRetryableError', 'RejectionOf', 'RetryPolicy', 'SnapshotPolicy', 'StandardSchemaV1',
        'StateOf', 'StoredEvent', 'TerminalPolicy', 'TimerRequest', 'Workflow', 'WorkflowDefinition', 'WorkflowRef', 'accept', 'createManualClock',
        'defineWorkflow', 'effect', 'EffectOptions', 'EffectRequest', 'isIronflowError', 'reject', 'startChild', 'ChildNotice', 'ChildStart',
        'defineStateMachine', 'instancePath', 'toDot', 'toMermaid', 'InstancePath', 'PathStep', 'RenderOptions', 'StateDefinition',
        'StateMachine', 'TransitionDefinition', 'WorkflowStateMachine', 'EventVersioning', 'EventVersions',
      ].sort(),
    );
  });

  it('the package exports map closes everything but the three entries', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './engine', './internal/*', './package.json', './store']);
    expect(pkg.exports['./internal/*']).toBeNull();
  });
});
