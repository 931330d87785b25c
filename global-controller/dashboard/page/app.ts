// The dashboard's script, served as /dashboard/app.js. Plain browser
// JavaScript (no build step): it takes the token once (from #token=... or a
// form; kept in localStorage), opens the status feed WebSocket with the token
// as subprotocol `bearer.<token>`, and redraws the page from every MeshStatus
// it receives. The world outline is passed in as WORLD = {land, water}.
//
// Kept as a String.raw template: it must contain no backquote and no dollar
// brace. Elements carry data-region, data-service, data-health, data-online,
// data-edge, data-announcing and data-tunnel so browser tests can find them.
export const DASHBOARD_APP_JS = String.raw`
'use strict';
(function (WORLD) {
  var TOKEN_KEY = 'meridian.token';
  var FEED_PATH = '/v1/status/ws';
  var SVG_NS = 'http://www.w3.org/2000/svg';
  // The server pushes at least every 2 s; this long without a frame means a dead link.
  var STALE_MS = 6000;
  var NONE = '\u2014';

  var state = { token: null, ws: null, retryMs: 500, retryTimer: null, staleTimer: null };

  function byId(id) { return document.getElementById(id); }

  function build(node, attrs, children) {
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null) return;
      if (k === 'text') node.textContent = String(v);
      else node.setAttribute(k, String(v));
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function el(tag, attrs, children) { return build(document.createElement(tag), attrs, children); }
  function svg(tag, attrs, children) { return build(document.createElementNS(SVG_NS, tag), attrs, children); }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // ---- formatting ----
  function age(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return NONE;
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm' + (s % 60 ? ' ' + (s % 60) + 's' : '');
    var h = Math.floor(m / 60);
    if (h < 48) return h + 'h' + (m % 60 ? ' ' + (m % 60) + 'm' : '');
    return Math.floor(h / 24) + 'd';
  }
  function rate(r) {
    if (r >= 1000) return (r / 1000).toFixed(1) + 'k';
    return r >= 10 ? String(Math.round(r)) : r.toFixed(1);
  }
  function percent(f) { return (f * 100).toFixed(f < 0.1 ? 2 : 1) + '%'; }
  function millis(ms) { return ms >= 1000 ? (ms / 1000).toFixed(2) + ' s' : Math.round(ms) + ' ms'; }
  function health(c) { return c.total > 0 && c.healthy === c.total ? 'healthy' : c.healthy > 0 ? 'degraded' : 'unhealthy'; }
  function sinceMs(iso, generatedAt) { return iso ? Date.parse(generatedAt) - Date.parse(iso) : null; }

  // ---- map: equirectangular, one unit per degree ----
  function px(lon) { return lon + 180; }
  function py(lat) { return 90 - lat; }
  function ringPath(ring) {
    return ring.map(function (p, i) { return (i ? 'L' : 'M') + px(p[0]).toFixed(1) + ' ' + py(p[1]).toFixed(1); }).join('') + 'Z';
  }

  function drawBase() {
    var base = byId('map-base');
    base.appendChild(svg('rect', { 'class': 'ocean', x: 0, y: 0, width: 360, height: 180 }));
    var grid = [];
    for (var lon = -150; lon <= 150; lon += 30) grid.push('M' + px(lon) + ' 0V180');
    for (var lat = -60; lat <= 60; lat += 30) if (lat !== 0) grid.push('M0 ' + py(lat) + 'H360');
    base.appendChild(svg('path', { 'class': 'graticule', d: grid.join('') }));
    base.appendChild(svg('path', { 'class': 'graticule equator', d: 'M0 90H360' }));
    base.appendChild(svg('path', { 'class': 'land', d: WORLD.land.map(ringPath).join('') }));
    base.appendChild(svg('path', { 'class': 'water', d: WORLD.water.map(ringPath).join('') }));
  }

  // Both directions of a region pair make one arc: down if either says so.
  function tunnelPairs(tunnels) {
    var byKey = {};
    var list = [];
    tunnels.forEach(function (t) {
      var a = t.from < t.to ? t.from : t.to;
      var b = t.from < t.to ? t.to : t.from;
      var p = byKey[a + '|' + b];
      if (!p) {
        p = byKey[a + '|' + b] = { a: a, b: b, up: true, ageMs: null, rttMs: null, never: false };
        list.push(p);
      }
      p.up = p.up && t.up;
      if (t.handshakeAgeMs === null) p.never = true;
      else p.ageMs = Math.max(p.ageMs || 0, t.handshakeAgeMs);
      if (t.rttMs > 0) p.rttMs = Math.max(p.rttMs || 0, t.rttMs);
    });
    return list;
  }

  function tunnelLabel(p) {
    if (p.ageMs === null) return p.up ? 'no handshake' : 'down';
    return (p.up ? '' : 'down \u00b7 ') + age(p.ageMs);
  }

  function drawOverlay(s) {
    var where = {};
    s.regions.forEach(function (r) {
      if (r.latitude !== null && r.longitude !== null) where[r.name] = [px(r.longitude), py(r.latitude)];
    });
    var tunnelsLayer = byId('map-tunnels');
    clear(tunnelsLayer);
    tunnelPairs(s.tunnels).forEach(function (p) {
      var A = where[p.a];
      var B = where[p.b];
      if (!A || !B) return;
      var dx = B[0] - A[0];
      var dy = B[1] - A[1];
      var len = Math.sqrt(dx * dx + dy * dy) || 1;
      // Bow the arc towards the north, a fifth of its length.
      var nx = -dy / len;
      var ny = dx / len;
      if (ny > 0) { nx = -nx; ny = -ny; }
      var cx = (A[0] + B[0]) / 2 + nx * len * 0.2;
      var cy = (A[1] + B[1]) / 2 + ny * len * 0.2;
      var cls = p.up ? 'up' : 'down';
      var key = p.a + '-' + p.b;
      tunnelsLayer.appendChild(svg('path', {
        'class': 'tunnel ' + cls, 'data-tunnel': key, 'data-up': p.up,
        d: 'M' + A[0] + ' ' + A[1] + 'Q' + cx.toFixed(2) + ' ' + cy.toFixed(2) + ' ' + B[0] + ' ' + B[1],
      }, [svg('title', { text: p.a + ' \u2194 ' + p.b + ': ' + (p.up ? 'up' : 'down') + ', handshake ' + age(p.ageMs) + ' ago' })]));
      // The curve's midpoint: a quarter of each end and half the control point.
      tunnelsLayer.appendChild(svg('text', {
        'class': 'tunnel-label ' + cls, 'data-tunnel': key,
        x: ((A[0] + B[0]) / 4 + cx / 2).toFixed(2), y: ((A[1] + B[1]) / 4 + cy / 2 - 1.4).toFixed(2), text: tunnelLabel(p),
      }));
    });
    var sites = byId('map-regions');
    clear(sites);
    s.regions.forEach(function (r) {
      var at = where[r.name];
      if (!at) return;
      var cls = r.online ? 'online' : 'offline';
      sites.appendChild(svg('g', { 'class': 'site ' + cls, 'data-region': r.name, 'data-online': r.online, transform: 'translate(' + at[0] + ' ' + at[1] + ')' }, [
        svg('title', { text: r.name + ': zone ' + (r.online ? 'online' : 'offline') }),
        svg('circle', { 'class': 'halo', r: 2.6 }),
        svg('circle', { 'class': 'core', r: 1.5 }),
        svg('text', { y: -3.4, text: r.name }),
      ]));
    });
  }

  // ---- panels ----
  function regionCard(r, s) {
    var heartbeat = r.lastHeartbeat ? age(sinceMs(r.lastHeartbeat, s.generatedAt)) + ' ago' : 'never';
    var where = r.latitude === null ? 'no location' : r.latitude.toFixed(2) + ', ' + r.longitude.toFixed(2);
    var badge = r.online ? ['ok', 'online'] : r.lastHeartbeat ? ['bad', 'offline'] : ['bad', 'no zone'];
    var edges = r.edges.length === 0
      ? [el('span', { 'class': 'badge', text: 'no edges reported' })]
      : r.edges.map(function (e) {
          return el('span', {
            'class': 'badge ' + (e.announcing ? (e.healthy ? 'ok' : 'warn') : 'bad'),
            'data-region': r.name, 'data-edge': e.name, 'data-announcing': e.announcing, 'data-healthy': e.healthy,
            title: e.healthy ? 'healthy' : 'unhealthy',
            text: e.name + ' \u00b7 ' + (e.announcing ? 'announcing' : 'withdrawn'),
          });
        });
    var t = r.traffic;
    function metric(value, unit) { return el('div', {}, [el('b', { 'class': 'num', text: value }), el('span', { text: unit })]); }
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

  function servicesTable(s) {
    if (s.services.length === 0) return el('p', { 'class': 'empty', text: 'No services yet.' });
    var online = {};
    s.regions.forEach(function (r) { online[r.name] = r.online; });
    var head = el('tr', {}, [el('th', { text: 'service' })].concat(s.regions.map(function (r) { return el('th', { text: r.name }); })));
    var rows = s.services.map(function (svc) {
      var cells = s.regions.map(function (r) {
        var c = svc.regions[r.name];
        if (!c) return el('td', { 'class': 'cell absent', 'data-region': r.name, 'data-service': svc.service, title: 'no instances', text: NONE });
        var stale = !online[r.name];
        return el('td', {
          'class': 'cell' + (stale ? ' stale' : ''), 'data-region': r.name, 'data-service': svc.service, 'data-health': health(c),
          'data-stale': stale, title: stale ? 'last report; the zone is offline' : c.healthy + ' of ' + c.total + ' instances healthy',
        }, [el('span', { text: c.healthy + '/' + c.total })]);
      });
      return el('tr', { 'data-service': svc.service }, [el('td', { text: svc.service })].concat(cells));
    });
    return el('table', {}, [el('thead', {}, [head]), el('tbody', {}, rows)]);
  }

  function tunnelsTable(s) {
    if (s.tunnels.length === 0) return el('p', { 'class': 'empty', text: 'No tunnels reported.' });
    var rows = s.tunnels.map(function (t) {
      return el('tr', { 'data-tunnel': t.from + '-' + t.to, 'data-up': t.up }, [
        el('td', { text: t.from + ' \u2192 ' + t.to }),
        el('td', {}, [el('span', { 'class': 'badge ' + (t.up ? 'ok' : 'bad'), text: t.up ? 'up' : 'down' })]),
        el('td', { 'class': 'num', text: t.handshakeAgeMs === null ? 'never' : age(t.handshakeAgeMs) + ' ago' }),
        el('td', { 'class': 'num', text: t.rttMs > 0 ? millis(t.rttMs) : NONE }),
      ]);
    });
    var head = el('tr', {}, ['tunnel', 'state', 'handshake', 'rtt'].map(function (h) { return el('th', { text: h }); }));
    return el('table', {}, [el('thead', {}, [head]), el('tbody', {}, rows)]);
  }

  function render(s) {
    var online = s.regions.filter(function (r) { return r.online; }).length;
    byId('summary').textContent = online + ' of ' + s.regions.length + ' regions online';
    byId('generated').textContent = 'updated ' + new Date(s.generatedAt).toLocaleTimeString();
    drawOverlay(s);
    var regions = byId('regions');
    clear(regions);
    if (s.regions.length === 0) regions.appendChild(el('p', { 'class': 'empty', text: 'No regions yet.' }));
    s.regions.forEach(function (r) { regions.appendChild(regionCard(r, s)); });
    var services = byId('services');
    clear(services);
    services.appendChild(servicesTable(s));
    var tunnels = byId('tunnels');
    clear(tunnels);
    tunnels.appendChild(tunnelsTable(s));
  }

  // ---- token ----
  function takeTokenFromHash() {
    var m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (!m) return;
    saveToken(decodeURIComponent(m[1]));
    // Out of the address bar and the history.
    history.replaceState(null, '', location.pathname + location.search);
  }
  function saveToken(t) {
    state.token = t;
    try { localStorage.setItem(TOKEN_KEY, t); } catch (e) { /* private mode: this page only */ }
  }
  function storedToken() {
    try { return localStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }
  function forgetToken() {
    state.token = null;
    try { localStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing stored */ }
  }
  function askToken(message) {
    setConn('auth', 'token needed');
    byId('login-error').textContent = message || '';
    byId('login').hidden = false;
    byId('main').hidden = true;
    byId('token-input').focus();
  }

  // ---- connection ----
  function setConn(kind, text) {
    var c = byId('conn');
    c.setAttribute('data-conn', kind);
    c.textContent = text;
  }

  function connect() {
    clearTimeout(state.retryTimer);
    if (!state.token) return askToken('');
    byId('login').hidden = true;
    byId('main').hidden = false;
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + FEED_PATH;
    var ws;
    try {
      ws = new WebSocket(url, ['bearer.' + state.token]);
    } catch (e) {
      // A token with characters a subprotocol cannot carry goes by query.
      ws = new WebSocket(url + '?token=' + encodeURIComponent(state.token));
    }
    state.ws = ws;
    var received = false;
    ws.onmessage = function (ev) {
      if (state.ws !== ws) return;
      var s;
      try { s = JSON.parse(ev.data); } catch (e) { return; }
      received = true;
      state.retryMs = 500;
      setConn('live', 'live');
      armStale(ws);
      render(s);
    };
    ws.onclose = function () {
      if (state.ws !== ws) return;
      state.ws = null;
      clearTimeout(state.staleTimer);
      // A refused upgrade looks like any other failure: ask the API why.
      if (received) retry(); else checkToken();
    };
  }

  function armStale(ws) {
    clearTimeout(state.staleTimer);
    state.staleTimer = setTimeout(function () {
      if (state.ws !== ws) return;
      state.ws = null;
      ws.close();
      setConn('stale', 'no updates');
      retry();
    }, STALE_MS);
  }

  function retry() {
    setConn('reconnecting', 'reconnecting\u2026');
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 5000);
  }

  function checkToken() {
    fetch('/v1/status', { headers: { authorization: 'Bearer ' + state.token }, cache: 'no-store' }).then(function (res) {
      if (res.status === 401) {
        forgetToken();
        askToken('The token was refused.');
        return;
      }
      if (res.ok) res.json().then(render, function () { /* the feed will bring it */ });
      retry();
    }, retry);
  }

  // ---- start ----
  byId('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var t = byId('token-input').value.trim();
    if (!t) return;
    byId('token-input').value = '';
    saveToken(t);
    connect();
  });
  byId('forget').addEventListener('click', function () {
    var ws = state.ws;
    state.ws = null;
    if (ws) ws.close();
    clearTimeout(state.retryTimer);
    clearTimeout(state.staleTimer);
    forgetToken();
    askToken('');
  });
  drawBase();
  takeTokenFromHash();
  state.token = state.token || storedToken();
  connect();
})
`;
