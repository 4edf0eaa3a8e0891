// The dashboard's one stylesheet, kept as a string so it is bundled into the package and served by
// the handler itself (no CDN, works offline). No rule depends on a script: the pages have none.
import { asset, type Asset } from './security.js';

const CSS = `
:root {
  color-scheme: light dark;
  --bg: #f7f7f8; --panel: #fff; --fg: #1d1d22; --muted: #62626e; --border: #dcdce2;
  --accent: #3b5bdb; --accent-fg: #fff; --danger: #c92a2a; --ok: #2b8a3e; --warn: #b35c00; --info: #1c7ed6;
  --code: #f1f1f4; --visited: #dbe4ff; --current: #ffe8cc;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #141417; --panel: #1c1c21; --fg: #e6e6ea; --muted: #9a9aa6; --border: #33333b;
    --accent: #748ffc; --accent-fg: #0d0d10; --danger: #ff6b6b; --ok: #69db7c; --warn: #ffa94d; --info: #4dabf7;
    --code: #24242a; --visited: #27305a; --current: #5a3b12;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.25rem; background: var(--panel); border-bottom: 1px solid var(--border); flex-wrap: wrap; }
header.top .brand { font-weight: 700; letter-spacing: .02em; color: var(--fg); }
header.top nav { display: flex; gap: 1rem; flex-wrap: wrap; }
header.top nav a { color: var(--muted); padding: .15rem 0; border-bottom: 2px solid transparent; }
header.top nav a.here { color: var(--fg); border-bottom-color: var(--accent); }
header.top .mode { margin-left: auto; font-size: .8rem; color: var(--muted); }
main { padding: 1rem 1.25rem 3rem; max-width: 1400px; }
h1 { font-size: 1.35rem; margin: .4rem 0 1rem; word-break: break-all; }
h2 { font-size: 1.05rem; margin: 1.75rem 0 .6rem; }
p.hint, .muted { color: var(--muted); }
section.panel { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: .75rem 1rem; margin-bottom: 1rem; }
table { border-collapse: collapse; width: 100%; background: var(--panel); border: 1px solid var(--border); border-radius: 6px; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--border); vertical-align: top; }
th { font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:last-child td { border-bottom: 0; }
time { white-space: nowrap; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
.mono { word-break: break-all; }
pre { background: var(--code); padding: .6rem .75rem; border-radius: 4px; overflow: auto; max-height: 28rem; margin: .3rem 0; white-space: pre-wrap; word-break: break-word; }
details > summary { cursor: pointer; color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .78rem; border: 1px solid currentColor; white-space: nowrap; }
.s-active, .s-pending, .s-due { color: var(--info); }
.s-completed, .s-done, .s-fired, .s-accepted, .s-succeeded { color: var(--ok); }
.s-cancelled { color: var(--muted); }
.s-dead, .s-failed, .s-rejected, .s-dead-lettered { color: var(--danger); }
.s-leased, .s-paused, .s-expired { color: var(--warn); }
.s-live, .s-redriven { color: var(--info); }
.s-parked { color: var(--danger); }
.s-none { color: var(--muted); }
.error-text { color: var(--danger); white-space: pre-wrap; word-break: break-word; }
.notice { padding: .55rem .8rem; border-radius: 4px; margin-bottom: 1rem; border: 1px solid var(--ok); color: var(--ok); background: var(--panel); }
.notice.refused { border-color: var(--danger); color: var(--danger); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .75rem; margin-bottom: 1rem; }
.card { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: .6rem .8rem; }
.card .value { font-size: 1.5rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: .8rem; }
.card.alarm .value { color: var(--danger); }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: .78rem; color: var(--muted); gap: .15rem; }
form.inline { display: inline-flex; gap: .35rem; align-items: center; margin: 0 .25rem .25rem 0; }
input, select, button { font: inherit; color: var(--fg); background: var(--panel); border: 1px solid var(--border); border-radius: 4px; padding: .25rem .5rem; }
button { cursor: pointer; background: var(--accent); color: var(--accent-fg); border-color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
button.quiet { background: var(--panel); color: var(--fg); border-color: var(--border); }
button:disabled { opacity: .5; cursor: not-allowed; }
.pager { display: flex; gap: 1rem; margin-top: .75rem; }
.actions { margin: .5rem 0 1rem; }
.timeline td.seq { width: 3rem; }
svg.machine { max-width: 100%; height: auto; background: var(--panel); border: 1px solid var(--border); border-radius: 6px; }
svg.machine .node rect { fill: var(--panel); stroke: var(--border); stroke-width: 1.5; }
svg.machine .node.visited rect { fill: var(--visited); stroke: var(--accent); }
svg.machine .node.current rect { fill: var(--current); stroke: var(--warn); stroke-width: 2.5; }
svg.machine .node.terminal rect { stroke-dasharray: 4 2; }
svg.machine .node text, svg.machine .edge text { fill: var(--fg); font: 12px system-ui, sans-serif; }
svg.machine .edge path { fill: none; stroke: var(--muted); stroke-width: 1.2; }
svg.machine .edge.taken path { stroke: var(--accent); stroke-width: 2.2; }
svg.machine .edge text { fill: var(--muted); font-size: 10.5px; }
svg.machine .edge rect.label-bg { fill: var(--panel); stroke: none; opacity: .9; }
svg.machine .node rect.inner { fill: none; stroke: var(--muted); stroke-width: 1; }
svg.machine circle.start { fill: var(--fg); }
svg.machine line.start { stroke: var(--fg); stroke-width: 1.5; }
svg.machine .edge.taken text { fill: var(--accent); }
svg.machine marker path { fill: var(--muted); }
svg.machine marker.taken path { fill: var(--accent); }
tr.visited td { background: var(--visited); }
td.alarm { color: var(--danger); font-weight: 650; }
p.warning { border-left: 3px solid var(--warn); padding: .4rem .75rem; background: var(--panel); }
form.filters label.check { flex-direction: row; align-items: center; gap: .35rem; font-size: .85rem; }
a.button-link { display: inline-block; padding: .25rem .5rem; border: 1px solid var(--danger); border-radius: 4px; color: var(--danger); }
`;

/** The stylesheet, named by its hash. */
export const STYLESHEET: Asset = asset('dashboard', 'css', 'text/css; charset=utf-8', CSS.trim());
