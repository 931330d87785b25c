// The dashboard's stylesheet: one dark theme, system fonts, nothing fetched.
export const DASHBOARD_CSS = `
:root {
  --bg: #0d1117; --panel: #151b23; --line: #262f3a; --text: #d7dee7; --muted: #8b96a3;
  --ok: #3fb950; --warn: #d29922; --bad: #f85149; --accent: #58a6ff;
  --land: #1e2935; --coast: #33465a; --grid: #18212b;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html, body { margin: 0; background: var(--bg); color: var(--text); }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code, .num { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.muted { color: var(--muted); font-weight: normal; }
.top { display: flex; align-items: center; gap: 16px; padding: 10px 20px; border-bottom: 1px solid var(--line); background: var(--panel); }
.top h1 { margin: 0; font-size: 18px; letter-spacing: .02em; }
.top .sub { color: var(--muted); font-weight: normal; margin-left: 6px; }
.spacer { flex: 1; }
.summary { color: var(--muted); }
.conn { padding: 2px 10px; border-radius: 999px; font-size: 12px; border: 1px solid var(--line); }
.conn::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 6px; background: var(--muted); vertical-align: 0; }
.conn[data-conn="live"]::before { background: var(--ok); box-shadow: 0 0 6px var(--ok); }
.conn[data-conn="reconnecting"]::before, .conn[data-conn="stale"]::before { background: var(--warn); }
.conn[data-conn="auth"]::before { background: var(--bad); }
button { font: inherit; color: var(--text); background: #21262d; border: 1px solid var(--line); border-radius: 6px; padding: 6px 14px; cursor: pointer; }
button.link { background: none; border: none; color: var(--muted); padding: 0; text-decoration: underline; }
main { padding: 16px 20px 40px; max-width: 1500px; margin: 0 auto; display: grid; gap: 16px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.panel h2 { margin: 0 0 10px; font-size: 14px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
.panel h2 .muted { text-transform: none; letter-spacing: 0; margin-left: 6px; }
.columns { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; }
@media (max-width: 900px) { .columns { grid-template-columns: minmax(0, 1fr); } }
.login { max-width: 460px; margin: 40px auto; }
.login input { width: 100%; margin: 6px 0 12px; padding: 8px; font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line); border-radius: 6px; }
.error { color: var(--bad); min-height: 1em; }

/* map */
.map-panel { padding: 8px; }
#map { display: block; width: 100%; height: auto; }
.ocean { fill: #0f161e; }
.graticule { fill: none; stroke: var(--grid); stroke-width: .3; }
.graticule.equator { stroke: #22303d; }
.land { fill: var(--land); stroke: var(--coast); stroke-width: .25; stroke-linejoin: round; }
.water { fill: #0f161e; stroke: var(--coast); stroke-width: .25; }
.tunnel { fill: none; stroke-width: .7; stroke-linecap: round; }
.tunnel.up { stroke: var(--accent); }
.tunnel.down { stroke: var(--bad); stroke-dasharray: 2 1.4; }
.tunnel-label { font-size: 3.2px; text-anchor: middle; dominant-baseline: middle; paint-order: stroke; stroke: var(--bg); stroke-width: .9px; }
.tunnel-label.up { fill: #a5c8f0; }
.tunnel-label.down { fill: var(--bad); }
.site .core { stroke: var(--bg); stroke-width: .4; }
.site.online .core { fill: var(--ok); }
.site.offline .core { fill: var(--bad); }
.site .halo { fill: none; stroke-width: .5; opacity: .6; }
.site.online .halo { stroke: var(--ok); animation: pulse 2.4s ease-out infinite; transform-box: fill-box; transform-origin: center; }
.site.offline .halo { stroke: var(--bad); }
.site text { font-size: 4px; font-weight: 600; text-anchor: middle; fill: var(--text); paint-order: stroke; stroke: var(--bg); stroke-width: 1px; }
@keyframes pulse { from { transform: scale(.6); opacity: .9; } to { transform: scale(1.8); opacity: 0; } }
.legend { display: flex; flex-wrap: wrap; gap: 18px; padding: 6px 8px 2px; color: var(--muted); font-size: 12px; }
.legend i { display: inline-block; margin-right: 6px; vertical-align: middle; }
.legend .dot { width: 9px; height: 9px; border-radius: 50%; }
.legend .dot.online { background: var(--ok); }
.legend .dot.offline { background: var(--bad); }
.legend .line { width: 22px; height: 0; border-top: 2px solid var(--accent); }
.legend .line.down { border-top: 2px dashed var(--bad); }

/* regions */
.regions { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; }
.region { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: #11171e; }
.region.offline { border-color: #5a2a2a; }
.region header { display: flex; align-items: center; gap: 8px; margin-bottom: 6px; }
.region h3 { margin: 0; font-size: 16px; }
.region .meta { color: var(--muted); font-size: 12px; margin-bottom: 8px; }
.badge { display: inline-block; font-size: 11px; padding: 1px 8px; border-radius: 999px; border: 1px solid var(--line); color: var(--muted); white-space: nowrap; }
.badge.ok { color: var(--ok); border-color: #2a5a34; background: #12261a; }
.badge.bad { color: var(--bad); border-color: #6a2a2a; background: #2a1414; }
.badge.warn { color: var(--warn); border-color: #5c4a1c; background: #261f0f; }
.edges { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 8px; }
.traffic { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; }
.traffic div { background: var(--bg); border-radius: 6px; padding: 4px 8px; }
.traffic b { display: block; font-size: 15px; }
.traffic span { color: var(--muted); font-size: 11px; }

/* tables */
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.cell { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
td.cell span { display: inline-block; min-width: 48px; text-align: center; padding: 1px 8px; border-radius: 6px; }
td.cell[data-health="healthy"] span { background: #12261a; color: var(--ok); }
td.cell[data-health="degraded"] span { background: #261f0f; color: var(--warn); }
td.cell[data-health="unhealthy"] span { background: #2a1414; color: var(--bad); }
td.cell.absent { color: var(--muted); }
td.cell.stale span { opacity: .45; }
.empty { color: var(--muted); margin: 4px 0; }
`;
