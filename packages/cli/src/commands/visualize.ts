// `visualize <type>`: the state machine a workflow of --workflows declares, as Mermaid or DOT text,
// and with --instance the path that instance took through it, folded from its stored events (only
// then is a store needed).
import type { AnyWorkflow } from '@ironflow/core';
import { instancePath, toDot, toMermaid, type InstancePath } from '@ironflow/core';
import { Option, type Command } from 'commander';
import { CliError, EXIT_CODES } from '../exit-codes.js';
import type { Io, Output } from '../output.js';
import { loadDefinitions, withSession } from '../session.js';

interface VisualizeOptions {
  format: 'mermaid' | 'dot';
  instance?: string | undefined;
}

/** The declared machine of `workflow`, or exit 1 when it declares none. */
function machineOf(workflow: AnyWorkflow) {
  if (workflow.stateMachine === undefined) throw new CliError(EXIT_CODES.failed, `workflow ${workflow.type} declares no stateMachine: nothing to draw (see defineStateMachine)`);
  return workflow.stateMachine.machine;
}

function print(out: Output, workflow: AnyWorkflow, options: VisualizeOptions, path: InstancePath | undefined): void {
  const render = options.format === 'dot' ? toDot : toMermaid;
  const diagram = render(machineOf(workflow), path === undefined ? {} : { path });
  if (out.json) return out.data({ workflowType: workflow.type, format: options.format, diagram, ...(path === undefined ? {} : { instance: options.instance, path }) });
  // Text for another program, printed as the renderer made it: it refuses state names and labels
  // that could break out of the diagram, and the path adds only state names.
  out.line(diagram);
}

export function visualizeCommand(program: Command, io: Io): void {
  program
    .command('visualize')
    .summary("print a workflow's state machine as Mermaid or DOT")
    .description("print a workflow's declared state machine as Mermaid or DOT; with --instance, highlight the path that instance took (needs --workflows; a store only with --instance)")
    .argument('<type>', 'workflow type, defined in the --workflows module')
    .addOption(new Option('--format <format>', 'diagram language').choices(['mermaid', 'dot']).default('mermaid'))
    .option('--instance <id>', "highlight this instance's path and where it is now (reads its events from the store)")
    .action(async (type: string, options: VisualizeOptions, command: Command) => {
      if (options.instance === undefined) {
        const { out, definition } = await loadDefinitions(command, io);
        return print(out, definition(type), options, undefined);
      }
      const r = { type, id: options.instance };
      return withSession(
        command,
        io,
        async (session) => {
          const workflow = session.definition(type);
          machineOf(workflow);
          await session.existing(r);
          print(session.out, workflow, options, instancePath(workflow, await session.store.readEvents(r)));
        },
        { definitions: true },
      );
    });
}
