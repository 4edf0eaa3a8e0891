/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// Paused work: the pauses in force (whole workflow types, then instances) with a resume button each,
// and a form to pause a workflow type.
import type { PausedEntry } from '@ironflow/core/store';
import { instanceHref, type PageContext } from '../context.js';
import { ActionForm, Layout, Time } from './components.js';

export function PausedPage(props: { ctx: PageContext; paused: readonly PausedEntry[]; types: readonly string[] }) {
  const { ctx } = props;
  const pausedTypes = new Set(props.paused.filter((p) => p.id === undefined).map((p) => p.type));
  const pausable = props.types.filter((type) => !pausedTypes.has(type));
  return (
    <Layout ctx={ctx} section="paused" title="Paused">
      <h1>Paused work</h1>
      <p class="hint">The effects and timers of paused work stay pending (a timer due meanwhile fires on resume); inputs are still decided.</p>
      {props.paused.length === 0 ? (
        <p class="muted" id="nothing-paused">
          Nothing is paused.
        </p>
      ) : (
        <table id="paused">
          <thead>
            <tr>
              <th>Workflow type</th>
              <th>Instance</th>
              <th>Paused</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.paused.map((entry) => (
              <tr>
                <td>{entry.type}</td>
                <td class="mono">{entry.id === undefined ? <span class="muted">the whole type</span> : <a href={instanceHref(ctx, entry.type, entry.id)}>{entry.id}</a>}</td>
                <td>
                  <Time ctx={ctx} at={entry.since} />
                </td>
                <td>
                  <ActionForm
                    ctx={ctx}
                    action={entry.id === undefined ? `/types/${encodeURIComponent(entry.type)}/resume` : `/instances/${encodeURIComponent(entry.type)}/${encodeURIComponent(entry.id)}/resume`}
                    label={entry.id === undefined ? `Resume ${entry.type}` : 'Resume'}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!ctx.canAct || pausable.length === 0 ? null : (
        <>
          <h2>Pause a workflow type</h2>
          <p class="hint">Every process stops claiming its effects and timers until it is resumed.</p>
          {pausable.map((type) => (
            <ActionForm ctx={ctx} action={`/types/${encodeURIComponent(type)}/pause`} label={`Pause ${type}`} danger />
          ))}
        </>
      )}
    </Layout>
  );
}
