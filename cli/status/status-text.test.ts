import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANSI_COLOUR, colourWanted, visibleLength } from './colour';
import { statusText, type MeshStatusBody } from './status-text';

const STATUS: MeshStatusBody = {
  generatedAt: '2026-11-22T10:00:00.000Z',
  regions: [
    {
      name: 'fra', online: true, lastHeartbeat: '2026-11-22T09:59:58.000Z', ackedVersion: 41,
      services: [{ service: 'api', healthy: 1, total: 2 }, { service: 'echo', healthy: 2, total: 2 }],
      edges: [{ name: 'fra-a', announcing: true, healthy: true }, { name: 'fra-b', announcing: false, healthy: false }],
      traffic: { requestRate: 12.5, errorRate: 0.004, p99Ms: 35.2 },
    },
    { name: 'sin', online: false, lastHeartbeat: '2026-11-22T09:57:00.000Z', ackedVersion: 40, services: [{ service: 'echo', healthy: 0, total: 2 }], edges: [], traffic: null },
    { name: 'syd', online: false, lastHeartbeat: null, ackedVersion: 0, services: [], edges: [], traffic: null },
  ],
  tunnels: [
    { from: 'fra', to: 'sin', up: true, handshakeAgeMs: 8000, rttMs: 160 },
    { from: 'sin', to: 'fra', up: false, handshakeAgeMs: null, rttMs: 0 },
  ],
};

describe('meridian status text', () => {
  it('shows a row per region and a row per tunnel, in plain text', () => {
    assert.equal(
      statusText(STATUS),
      [
        'REGION   ONLINE   HEARTBEAT   ACKED   EDGES                              SERVICES            TRAFFIC',
        'fra      yes      2s ago      41      1/2 announcing (fra-b withdrawn)   api 1/2, echo 2/2   13 req/s, 0.40% err, p99 35 ms',
        'sin      no       3m ago      40      -                                  echo 0/2            -',
        'syd      no       never       -       -                                  -                   -',
        '',
        'TUNNEL       UP    HANDSHAKE   RTT',
        'fra -> sin   yes   8s ago      160 ms',
        'sin -> fra   no    never       -',
        '',
      ].join('\n'),
    );
  });

  it('keeps the columns in line when coloured', () => {
    const text = statusText(STATUS, ANSI_COLOUR);
    assert.match(text, /\x1b\[32myes\x1b\[39m/);
    assert.match(text, /\x1b\[31mecho 0\/2\x1b\[39m/);
    assert.match(text, /\x1b\[33mapi 1\/2\x1b\[39m/);
    const plain = statusText(STATUS).split('\n');
    text.split('\n').forEach((line, i) => assert.equal(visibleLength(line), plain[i]!.length, `line ${i}`));
  });

  it('says when nothing is there yet', () => {
    assert.equal(statusText({ generatedAt: STATUS.generatedAt, regions: [], tunnels: [] }), 'no regions yet\n\nno tunnels reported\n');
  });

  it('colours only a terminal, and never with NO_COLOR or TERM=dumb', () => {
    assert.equal(colourWanted({ isTTY: true }, {}), true);
    assert.equal(colourWanted({ isTTY: false }, {}), false);
    assert.equal(colourWanted({}, {}), false);
    assert.equal(colourWanted({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(colourWanted({ isTTY: true }, { NO_COLOR: '' }), true);
    assert.equal(colourWanted({ isTTY: true }, { TERM: 'dumb' }), false);
  });
});
