/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// One instance: its summary and actions, current state, the path it took, its event timeline, its
// effects and timers with attempts and last errors, and the inputs observed for it.
import type { EffectRecord, InstanceSummary, Observation, StoredEvent, TimerRecord } from '@ironflow/core/store';
import { href, instanceHref, type PageContext } from '../context.js';
import { kindOf } from '../format.js';
import { ActionForm, Badge, CancelForm, Folded, Json, Layout, Time } from './components.js';
import { MachineSection, type MachineView } from './machine.js';

/** Most events the timeline shows: the latest ones. */
export const TIMELINE_LIMIT = 500;

/** Everything the instance page shows, read before rendering. */
export interface InstanceData {
  readonly summary: InstanceSummary;
  readonly events: readonly StoredEvent[];
  readonly effects: readonly EffectRecord[];
  readonly timers: readonly TimerRecord[];
  readonly observations: readonly Observation[];
  /** The folded state; `error` when evolve failed; absent without the workflow's definition. */
  readonly state?: { readonly value: unknown } | { readonly error: string } | undefined;
  readonly paused: { readonly instance: boolean; readonly type: boolean };
  readonly machine: MachineView;
  /** Seconds between automatic reloads, when asked for. */
  readonly refreshSeconds?: number | undefined;
}

const workAction = (kind: 'effect' | 'timer', id: string) => `/dead-letters/${kind}/${encodeURIComponent(id)}/redrive`;

export function InstancePage(props: { ctx: PageContext; data: InstanceData }) {
  const { ctx, data } = props;
  const { summary } = data;
  const type = summary.workflowType;
  const id = summary.workflowId;
  const base = `/instances/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
  const shown = data.events.length > TIMELINE_LIMIT ? data.events.slice(-TIMELINE_LIMIT) : data.events;
  const refreshLink = (() => {
    const params = new URLSearchParams(ctx.url.search);
    params.delete('notice');
    if (data.refreshSeconds === undefined) params.set('refresh', '5');
    else params.delete('refresh');
    const query = params.toString();
    return `${ctx.url.pathname}${query === '' ? '' : `?${query}`}`;
  })();
  return (
    <Layout ctx={ctx} section="instances" title={`${type} ${id}`} refreshSeconds={data.refreshSeconds}>
      <h1>
        <span class="muted">{type}</span> <span class="mono" id="instance-id">{id}</span> <Badge status={summary.status} />
      </h1>
      <section class="panel">
        <dl class="facts">
          <dt>Status</dt>
          <dd id="instance-status">{summary.status}</dd>
          {summary.cancelReason === undefined ? null : (
            <>
              <dt>Cancel reason</dt>
              <dd>{summary.cancelReason}</dd>
            </>
          )}
          <dt>Version</dt>
          <dd>{summary.version === 1 ? '1 event' : `${summary.version} events`}</dd>
          <dt>Created</dt>
          <dd>
            <Time ctx={ctx} at={summary.createdAt} />
          </dd>
          <dt>Updated</dt>
          <dd>
            <Time ctx={ctx} at={summary.updatedAt} />
          </dd>
          {summary.parent === undefined ? null : (
            <>
              <dt>Parent</dt>
              <dd class="mono">
                <a href={instanceHref(ctx, summary.parent.type, summary.parent.id)}>{`${summary.parent.type} ${summary.parent.id}`}</a>
              </dd>
            </>
          )}
          <dt>Children</dt>
          <dd>
            <a href={`${href(ctx, '/instances')}?${new URLSearchParams({ parentType: type, parentId: id })}`}>instances it started</a>
          </dd>
          <dt>Paused</dt>
          <dd>{data.paused.type ? 'its whole workflow type is paused' : data.paused.instance ? 'yes' : 'no'}</dd>
        </dl>
        <div class="actions">
          {summary.status === 'active' ? <CancelForm ctx={ctx} type={type} id={id} /> : null}
          {data.paused.instance ? (
            <ActionForm ctx={ctx} action={`${base}/resume`} label="Resume instance" />
          ) : summary.status === 'active' ? (
            <ActionForm ctx={ctx} action={`${base}/pause`} label="Pause instance" />
          ) : null}
          <a href={refreshLink}>{data.refreshSeconds === undefined ? 'Reload every 5 s' : 'Stop reloading'}</a>
        </div>
      </section>

      <h2>State</h2>
      {data.state === undefined ? (
        <p class="hint">Give the dashboard this workflow's definition (the `workflows` option) to see its state folded from the events.</p>
      ) : 'error' in data.state ? (
        <p class="error-text">{data.state.error}</p>
      ) : (
        <div id="state">
          <Json value={data.state.value} />
        </div>
      )}

      <MachineSection ctx={ctx} view={data.machine} />

      <h2>Events</h2>
      {data.events.length > shown.length ? <p class="hint">{`The latest ${shown.length} of ${data.events.length} events.`}</p> : null}
      {shown.length === 0 ? (
        <p class="muted">No events.</p>
      ) : (
        <table id="events" class="timeline">
          <thead>
            <tr>
              <th class="num">#</th>
              <th>Event</th>
              <th>Input</th>
              <th>Caused by</th>
              <th>Recorded</th>
              <th>Payload</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((event) => (
              <tr>
                <td class="num seq">{event.sequence}</td>
                <td>{event.type}</td>
                <td>{event.metadata.inputType ?? ''}</td>
                <td class="mono">
                  {event.metadata.causedBy === undefined ? '' : <a href={`#${event.metadata.causedBy.kind}-${event.metadata.causedBy.id}`}>{`${event.metadata.causedBy.kind} ${event.metadata.causedBy.id}`}</a>}
                </td>
                <td>
                  <Time ctx={ctx} at={event.recordedAt} />
                </td>
                <td>
                  <Folded summary="payload" value={event.payload} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Effects</h2>
      {data.effects.length === 0 ? (
        <p class="muted">No effects.</p>
      ) : (
        <table id="effects">
          <thead>
            <tr>
              <th>Effect</th>
              <th>Status</th>
              <th class="num">Attempts</th>
              <th>Next attempt</th>
              <th>Last error</th>
              <th>Payload</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.effects.map((effect) => (
              <tr id={`effect-${effect.id}`}>
                <td>
                  <div>{kindOf(effect.payload)}</div>
                  <div class="muted mono">{effect.id}</div>
                  {effect.key === undefined ? null : <div class="muted">{`key ${effect.key}`}</div>}
                  {effect.tag === undefined ? null : <div class="muted">{`tag ${effect.tag}`}</div>}
                  {effect.priority === 0 ? null : <div class="muted">{`priority ${effect.priority}`}</div>}
                </td>
                <td>
                  <Badge status={effect.status} />
                </td>
                <td class="num">{effect.attempts}</td>
                <td>{effect.status === 'pending' ? <Time ctx={ctx} at={effect.availableAt} /> : effect.status === 'leased' ? <span class="muted">{`leased by ${effect.leaseOwner ?? '?'}`}</span> : ''}</td>
                <td class="error-text">{effect.lastError ?? ''}</td>
                <td>
                  <Folded summary="payload" value={effect.payload} />
                </td>
                <td>{effect.status === 'dead' ? <ActionForm ctx={ctx} action={workAction('effect', effect.id)} label="Re-drive" /> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Timers</h2>
      {data.timers.length === 0 ? (
        <p class="muted">No timers.</p>
      ) : (
        <table id="timers">
          <thead>
            <tr>
              <th>Timer</th>
              <th>Status</th>
              <th>Fires</th>
              <th class="num">Attempts</th>
              <th>Last error</th>
              <th>Input</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.timers.map((timer) => (
              <tr id={`timer-${timer.id}`}>
                <td>
                  <div>{timer.key ?? kindOf(timer.input)}</div>
                  <div class="muted mono">{timer.id}</div>
                </td>
                <td>
                  <Badge status={timer.status} />
                </td>
                <td>
                  <Time ctx={ctx} at={timer.fireAt} />
                </td>
                <td class="num">{timer.attempts}</td>
                <td class="error-text">{timer.lastError ?? ''}</td>
                <td>
                  <Folded summary="input" value={timer.input} />
                </td>
                <td>{timer.status === 'dead' ? <ActionForm ctx={ctx} action={workAction('timer', timer.id)} label="Re-drive" /> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {data.observations.length === 0 ? null : (
        <>
          <h2>Observed inputs</h2>
          <table id="observations">
            <thead>
              <tr>
                <th>Input</th>
                <th>Outcome</th>
                <th>At</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {data.observations.map((o) => (
                <tr>
                  <td>{o.inputType}</td>
                  <td>
                    <Badge status={o.outcome} />
                  </td>
                  <td>
                    <Time ctx={ctx} at={o.observedAt} />
                  </td>
                  <td>
                    <Folded summary="input" value={o.input} />
                    {o.rejection === undefined ? null : <Folded summary="rejection" value={o.rejection} />}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Layout>
  );
}
