/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// The instance list: a filter form (type, id prefix, status, parent) and a cursor page of instances.
import type { InstanceStatus, InstanceSummary } from '@ironflow/core/store';
import { instanceHref, type PageContext } from '../context.js';
import { Badge, Layout, Pager, Time } from './components.js';

/** The filters as the query gave them. */
export interface InstanceFilters {
  readonly type?: string | undefined;
  readonly prefix?: string | undefined;
  readonly status?: InstanceStatus | undefined;
  readonly parent?: { readonly type: string; readonly id: string } | undefined;
  readonly after?: string | undefined;
}

export function InstancesPage(props: { ctx: PageContext; filters: InstanceFilters; types: readonly string[]; items: readonly InstanceSummary[]; next: string | undefined }) {
  const { ctx, filters } = props;
  return (
    <Layout ctx={ctx} section="instances" title="Instances">
      <h1>Instances</h1>
      <form class="filters" method="get" action={ctx.url.pathname}>
        <label>
          Workflow type
          <select name="type">
            <option value="">all types</option>
            {props.types.map((type) => (
              <option value={type} selected={type === filters.type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        <label>
          Id starts with
          <input type="search" name="id" value={filters.prefix ?? ''} placeholder="needs a type" maxLength={512} />
        </label>
        <label>
          Status
          <select name="status">
            <option value="">any</option>
            {(['active', 'completed', 'cancelled'] as const).map((status) => (
              <option value={status} selected={status === filters.status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        {filters.parent === undefined ? null : (
          <>
            <input type="hidden" name="parentType" value={filters.parent.type} />
            <input type="hidden" name="parentId" value={filters.parent.id} />
          </>
        )}
        <button type="submit">Search</button>
      </form>
      {filters.parent === undefined ? null : (
        <p class="hint">
          Children of <a href={instanceHref(ctx, filters.parent.type, filters.parent.id)} class="mono">{`${filters.parent.type} ${filters.parent.id}`}</a>
        </p>
      )}
      {props.items.length === 0 ? (
        <p class="muted" id="no-instances">
          No instances match.
        </p>
      ) : (
        <table id="instances">
          <thead>
            <tr>
              <th>Workflow type</th>
              <th>Id</th>
              <th>Status</th>
              <th class="num">Version</th>
              <th>Parent</th>
              <th>Updated</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {props.items.map((item) => (
              <tr>
                <td>{item.workflowType}</td>
                <td class="mono">
                  <a href={instanceHref(ctx, item.workflowType, item.workflowId)}>{item.workflowId}</a>
                </td>
                <td>
                  <Badge status={item.status} />
                </td>
                <td class="num">{item.version}</td>
                <td class="mono">{item.parent === undefined ? '' : <a href={instanceHref(ctx, item.parent.type, item.parent.id)}>{`${item.parent.type} ${item.parent.id}`}</a>}</td>
                <td>
                  <Time ctx={ctx} at={item.updatedAt} />
                </td>
                <td>
                  <Time ctx={ctx} at={item.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager ctx={ctx} next={props.next} first={filters.after === undefined} />
    </Layout>
  );
}
