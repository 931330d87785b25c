// The dashboard's script, served as /dashboard/app.js. It takes the token once
// (from #token=... or a form; kept in localStorage), opens the status feed
// WebSocket with the token as subprotocol `bearer.<token>`, and redraws the
// page from every MeshStatus it receives.
//
// A plain browser script, not a module: compiled on its own by
// tsconfig.browser.json (DOM types, no Node), it defines startDashboard and
// the admin server appends the call with the world outline, so the page needs
// no loader and the CSP keeps `script-src 'self'`. Elements carry data-region,
// data-service, data-health, data-online, data-edge, data-announcing and
// data-tunnel so browser tests can find them.

type MeshStatus = import('../mesh-status').MeshStatus;
type RegionView = import('../mesh-status').RegionView;
type TunnelView = import('../mesh-status').TunnelView;
type HealthCount = import('../mesh-status').HealthCount;

// As page/world-outline.ts draws it: [longitude, latitude] rings.
type Ring = [number, number][];
interface WorldOutline {
  land: Ring[];
  water: Ring[];
}

const TOKEN_KEY = 'meridian.token';
const FEED_PATH = '/v1/status/ws';
const SVG_NS = 'http://www.w3.org/2000/svg';
// The server pushes at least every 2 s; this long without a frame means a dead link.
const STALE_MS = 6000;
const NONE = '\u2014';

const state: {
  token: string | null;
  ws: WebSocket | null;
  retryMs: number;
  retryTimer: number | undefined;
  staleTimer: number | undefined;
} = { token: null, ws: null, retryMs: 500, retryTimer: undefined, staleTimer: undefined };

// The page's fixed elements (html.ts); a missing one is a broken page, said at once.
function byId<T extends Element>(id: string, kind: { new (): T; prototype: T }): T {
  const node = document.getElementById(id);
  if (!(node instanceof kind)) throw new Error(`dashboard: no #${id} of the expected kind`);
  return node;
}

// `text` sets the text content; null and undefined values are left out.
type Attrs = Record<string, string | number | boolean | null | undefined>;

function build<T extends Element>(node: T, attrs?: Attrs, children?: Node[]): T {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null) continue;
    if (k === 'text') node.textContent = String(v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children ?? []) node.appendChild(c);
  return node;
}
function el(tag: string, attrs?: Attrs, children?: Node[]): HTMLElement {
  return build(document.createElement(tag), attrs, children);
}
function svg(tag: string, attrs?: Attrs, children?: Node[]): SVGElement {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}
function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// ---- formatting ----
function age(ms: number | null): string {
  if (ms === null || isNaN(ms)) return NONE;
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm' + (s % 60 ? ' ' + (s % 60) + 's' : '');
  const h = Math.floor(m / 60);
  if (h < 48) return h + 'h' + (m % 60 ? ' ' + (m % 60) + 'm' : '');
  return Math.floor(h / 24) + 'd';
}
function rate(r: number): string {
  if (r >= 1000) return (r / 1000).toFixed(1) + 'k';
  return r >= 10 ? String(Math.round(r)) : r.toFixed(1);
}
function percent(f: number): string {
  return (f * 100).toFixed(f < 0.1 ? 2 : 1) + '%';
}
function millis(ms: number): string {
  return ms >= 1000 ? (ms / 1000).toFixed(2) + ' s' : Math.round(ms) + ' ms';
}
function health(c: HealthCount): string {
  return c.total > 0 && c.healthy === c.total ? 'healthy' : c.healthy > 0 ? 'degraded' : 'unhealthy';
}
function sinceMs(iso: string | null, generatedAt: string): number | null {
  return iso ? Date.parse(generatedAt) - Date.parse(iso) : null;
}

// ---- map: equirectangular, one unit per degree ----
function px(lon: number): number {
  return lon + 180;
}
function py(lat: number): number {
  return 90 - lat;
}
function ringPath(ring: Ring): string {
  return ring.map((p, i) => (i ? 'L' : 'M') + px(p[0]).toFixed(1) + ' ' + py(p[1]).toFixed(1)).join('') + 'Z';
}

function drawBase(world: WorldOutline): void {
  const base = byId('map-base', SVGGElement);
  base.appendChild(svg('rect', { 'class': 'ocean', x: 0, y: 0, width: 360, height: 180 }));
  const grid: string[] = [];
  for (let lon = -150; lon <= 150; lon += 30) grid.push('M' + px(lon) + ' 0V180');
  for (let lat = -60; lat <= 60; lat += 30) if (lat !== 0) grid.push('M0 ' + py(lat) + 'H360');
  base.appendChild(svg('path', { 'class': 'graticule', d: grid.join('') }));
  base.appendChild(svg('path', { 'class': 'graticule equator', d: 'M0 90H360' }));
  base.appendChild(svg('path', { 'class': 'land', d: world.land.map(ringPath).join('') }));
  base.appendChild(svg('path', { 'class': 'water', d: world.water.map(ringPath).join('') }));
}

interface TunnelPair {
  a: string;
  b: string;
  up: boolean;
  ageMs: number | null;
  rttMs: number | null;
  never: boolean;
}

// Both directions of a region pair make one arc: down if either says so.
function tunnelPairs(tunnels: TunnelView[]): TunnelPair[] {
  const byKey = new Map<string, TunnelPair>();
  for (const t of tunnels) {
    const a = t.from < t.to ? t.from : t.to;
    const b = t.from < t.to ? t.to : t.from;
    let p = byKey.get(a + '|' + b);
    if (!p) {
      p = { a, b, up: true, ageMs: null, rttMs: null, never: false };
      byKey.set(a + '|' + b, p);
    }
    p.up = p.up && t.up;
    if (t.handshakeAgeMs === null) p.never = true;
    else p.ageMs = Math.max(p.ageMs || 0, t.handshakeAgeMs);
    if (t.rttMs > 0) p.rttMs = Math.max(p.rttMs || 0, t.rttMs);
  }
  return [...byKey.values()];
}

function tunnelLabel(p: TunnelPair): string {
  if (p.ageMs === null) return p.up ? 'no handshake' : 'down';
  return (p.up ? '' : 'down \u00b7 ') + age(p.ageMs);
}

function drawOverlay(s: MeshStatus): void {
  const where = new Map<string, [number, number]>();
  for (const r of s.regions) {
    if (r.latitude !== null && r.longitude !== null) where.set(r.name, [px(r.longitude), py(r.latitude)]);
  }
  const tunnelsLayer = byId('map-tunnels', SVGGElement);
  clear(tunnelsLayer);
  for (const p of tunnelPairs(s.tunnels)) {
    const A = where.get(p.a);
    const B = where.get(p.b);
    if (!A || !B) continue;
    const dx = B[0] - A[0];
    const dy = B[1] - A[1];
    const len = Math.sqrt(dx * dx + dy * dy) || 1;
    // Bow the arc towards the north, a fifth of its length.
    let nx = -dy / len;
    let ny = dx / len;
    if (ny > 0) {
      nx = -nx;
      ny = -ny;
    }
    const cx = (A[0] + B[0]) / 2 + nx * len * 0.2;
    const cy = (A[1] + B[1]) / 2 + ny * len * 0.2;
    const cls = p.up ? 'up' : 'down';
    const key = p.a + '-' + p.b;
    tunnelsLayer.appendChild(
      svg(
        'path',
        {
          'class': 'tunnel ' + cls, 'data-tunnel': key, 'data-up': p.up,
          d: 'M' + A[0] + ' ' + A[1] + 'Q' + cx.toFixed(2) + ' ' + cy.toFixed(2) + ' ' + B[0] + ' ' + B[1],
        },
        [svg('title', { text: p.a + ' \u2194 ' + p.b + ': ' + (p.up ? 'up' : 'down') + ', handshake ' + age(p.ageMs) + ' ago' })],
      ),
    );
    // The curve's midpoint: a quarter of each end and half the control point.
    tunnelsLayer.appendChild(
      svg('text', {
        'class': 'tunnel-label ' + cls, 'data-tunnel': key,
        x: ((A[0] + B[0]) / 4 + cx / 2).toFixed(2), y: ((A[1] + B[1]) / 4 + cy / 2 - 1.4).toFixed(2), text: tunnelLabel(p),
      }),
    );
  }
  const sites = byId('map-regions', SVGGElement);
  clear(sites);
  for (const r of s.regions) {
    const at = where.get(r.name);
    if (!at) continue;
    const cls = r.online ? 'online' : 'offline';
    sites.appendChild(
      svg('g', { 'class': 'site ' + cls, 'data-region': r.name, 'data-online': r.online, transform: 'translate(' + at[0] + ' ' + at[1] + ')' }, [
        svg('title', { text: r.name + ': zone ' + (r.online ? 'online' : 'offline') }),
        svg('circle', { 'class': 'halo', r: 2.6 }),
        svg('circle', { 'class': 'core', r: 1.5 }),
        svg('text', { y: -3.4, text: r.name }),
      ]),
    );
  }
}

// ---- panels ----
function regionCard(r: RegionView, s: MeshStatus): HTMLElement {
  const heartbeat = r.lastHeartbeat ? age(sinceMs(r.lastHeartbeat, s.generatedAt)) + ' ago' : 'never';
  const where = r.latitude === null || r.longitude === null ? 'no location' : r.latitude.toFixed(2) + ', ' + r.longitude.toFixed(2);
  const badge = r.online ? ['ok', 'online'] : r.lastHeartbeat ? ['bad', 'offline'] : ['bad', 'no zone'];
  const edges =
    r.edges.length === 0
      ? [el('span', { 'class': 'badge', text: 'no edges reported' })]
      : r.edges.map((e) =>
          el('span', {
            'class': 'badge ' + (e.announcing ? (e.healthy ? 'ok' : 'warn') : 'bad'),
            'data-region': r.name, 'data-edge': e.name, 'data-announcing': e.announcing, 'data-healthy': e.healthy,
            title: e.healthy ? 'healthy' : 'unhealthy',
            text: e.name + ' \u00b7 ' + (e.announcing ? 'announcing' : 'withdrawn'),
          }),
        );
  const t = r.traffic;
  const metric = (value: string, unit: string) => el('div', {}, [el('b', { 'class': 'num', text: value }), el('span', { text: unit })]);
  return el('article', { 'class': 'region ' + (r.online ? 'online' : 'offline'), 'data-region': r.name, 'data-online': r.online }, [
    el('header', {}, [el('h3', { text: r.name }), el('span', { 'class': 'badge ' + badge[0], text: badge[1] })]),
    el('div', { 'class': 'meta', text: 'heartbeat ' + heartbeat + ' \u00b7 acked v' + r.ackedVersion + ' \u00b7 ' + where }),
    el('div', { 'class': 'edges' }, edges),
    el('div', { 'class': 'traffic', 'data-region': r.name, 'data-traffic': t ? 'reported' : 'none' }, [
      metric(t ? rate(t.requestRate) : NONE, 'req/s'),
      metric(t ? percent(t.errorRate) : NONE, 'errors'),
      metric(t ? millis(t.p99Ms) : NONE, 'p99'),
    ]),
  ]);
}

function servicesTable(s: MeshStatus): HTMLElement {
  if (s.services.length === 0) return el('p', { 'class': 'empty', text: 'No services yet.' });
  const online = new Map(s.regions.map((r) => [r.name, r.online]));
  const head = el('tr', {}, [el('th', { text: 'service' }), ...s.regions.map((r) => el('th', { text: r.name }))]);
  const rows = s.services.map((svc) => {
    const cells = s.regions.map((r) => {
      const c = svc.regions[r.name];
      if (!c) return el('td', { 'class': 'cell absent', 'data-region': r.name, 'data-service': svc.service, title: 'no instances', text: NONE });
      const stale = !online.get(r.name);
      return el(
        'td',
        {
          'class': 'cell' + (stale ? ' stale' : ''), 'data-region': r.name, 'data-service': svc.service, 'data-health': health(c),
          'data-stale': stale, title: stale ? 'last report; the zone is offline' : c.healthy + ' of ' + c.total + ' instances healthy',
        },
        [el('span', { text: c.healthy + '/' + c.total })],
      );
    });
    return el('tr', { 'data-service': svc.service }, [el('td', { text: svc.service }), ...cells]);
  });
  return el('table', {}, [el('thead', {}, [head]), el('tbody', {}, rows)]);
}

function tunnelsTable(s: MeshStatus): HTMLElement {
  if (s.tunnels.length === 0) return el('p', { 'class': 'empty', text: 'No tunnels reported.' });
  const rows = s.tunnels.map((t) =>
    el('tr', { 'data-tunnel': t.from + '-' + t.to, 'data-up': t.up }, [
      el('td', { text: t.from + ' \u2192 ' + t.to }),
      el('td', {}, [el('span', { 'class': 'badge ' + (t.up ? 'ok' : 'bad'), text: t.up ? 'up' : 'down' })]),
      el('td', { 'class': 'num', text: t.handshakeAgeMs === null ? 'never' : age(t.handshakeAgeMs) + ' ago' }),
      el('td', { 'class': 'num', text: t.rttMs > 0 ? millis(t.rttMs) : NONE }),
    ]),
  );
  const head = el('tr', {}, ['tunnel', 'state', 'handshake', 'rtt'].map((h) => el('th', { text: h })));
  return el('table', {}, [el('thead', {}, [head]), el('tbody', {}, rows)]);
}

function render(s: MeshStatus): void {
  const online = s.regions.filter((r) => r.online).length;
  byId('summary', HTMLElement).textContent = online + ' of ' + s.regions.length + ' regions online';
  byId('generated', HTMLElement).textContent = 'updated ' + new Date(s.generatedAt).toLocaleTimeString();
  drawOverlay(s);
  const regions = byId('regions', HTMLElement);
  clear(regions);
  if (s.regions.length === 0) regions.appendChild(el('p', { 'class': 'empty', text: 'No regions yet.' }));
  for (const r of s.regions) regions.appendChild(regionCard(r, s));
  const services = byId('services', HTMLElement);
  clear(services);
  services.appendChild(servicesTable(s));
  const tunnels = byId('tunnels', HTMLElement);
  clear(tunnels);
  tunnels.appendChild(tunnelsTable(s));
}

// ---- token ----
function takeTokenFromHash(): void {
  const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!m) return;
  saveToken(decodeURIComponent(m[1]));
  // Out of the address bar and the history.
  history.replaceState(null, '', location.pathname + location.search);
}
function saveToken(t: string): void {
  state.token = t;
  try {
    localStorage.setItem(TOKEN_KEY, t);
  } catch {
    // private mode: this page only
  }
}
function storedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}
function forgetToken(): void {
  state.token = null;
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing stored
  }
}
function askToken(message: string): void {
  setConn('auth', 'token needed');
  byId('login-error', HTMLElement).textContent = message;
  byId('login', HTMLFormElement).hidden = false;
  byId('main', HTMLElement).hidden = true;
  byId('token-input', HTMLInputElement).focus();
}

// ---- connection ----
type ConnState = 'auth' | 'live' | 'stale' | 'reconnecting';

function setConn(kind: ConnState, text: string): void {
  const c = byId('conn', HTMLElement);
  c.setAttribute('data-conn', kind);
  c.textContent = text;
}

function connect(): void {
  clearTimeout(state.retryTimer);
  if (!state.token) return askToken('');
  byId('login', HTMLFormElement).hidden = true;
  byId('main', HTMLElement).hidden = false;
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + FEED_PATH;
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, ['bearer.' + state.token]);
  } catch {
    // A token with characters a subprotocol cannot carry goes by query.
    ws = new WebSocket(url + '?token=' + encodeURIComponent(state.token));
  }
  state.ws = ws;
  let received = false;
  ws.onmessage = (ev: MessageEvent<string>) => {
    if (state.ws !== ws) return;
    let s: MeshStatus;
    try {
      s = JSON.parse(ev.data) as MeshStatus;
    } catch {
      return;
    }
    received = true;
    state.retryMs = 500;
    setConn('live', 'live');
    armStale(ws);
    render(s);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    clearTimeout(state.staleTimer);
    // A refused upgrade looks like any other failure: ask the API why.
    if (received) retry();
    else checkToken();
  };
}

function armStale(ws: WebSocket): void {
  clearTimeout(state.staleTimer);
  state.staleTimer = setTimeout(() => {
    if (state.ws !== ws) return;
    state.ws = null;
    ws.close();
    setConn('stale', 'no updates');
    retry();
  }, STALE_MS);
}

function retry(): void {
  setConn('reconnecting', 'reconnecting\u2026');
  clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(connect, state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, 5000);
}

function checkToken(): void {
  fetch('/v1/status', { headers: { authorization: 'Bearer ' + state.token }, cache: 'no-store' }).then((res) => {
    if (res.status === 401) {
      forgetToken();
      askToken('The token was refused.');
      return;
    }
    if (res.ok) {
      (res.json() as Promise<MeshStatus>).then(render, () => {
        // the feed will bring it
      });
    }
    retry();
  }, retry);
}

// ---- start ----
// Called by the line the admin server appends, with page/world-outline.ts.
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- called from outside this script (page/assets.ts)
function startDashboard(world: WorldOutline): void {
  byId('login', HTMLFormElement).addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = byId('token-input', HTMLInputElement);
    const t = input.value.trim();
    if (!t) return;
    input.value = '';
    saveToken(t);
    connect();
  });
  byId('forget', HTMLButtonElement).addEventListener('click', () => {
    const ws = state.ws;
    state.ws = null;
    if (ws) ws.close();
    clearTimeout(state.retryTimer);
    clearTimeout(state.staleTimer);
    forgetToken();
    askToken('');
  });
  drawBase(world);
  takeTokenFromHash();
  state.token = state.token || storedToken();
  connect();
}
