import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FAST_TIMERS, renderEdgeConfig, renderRouterConfig, type EdgeBirdConfig } from './bird-config';

const edge: EdgeBirdConfig = {
  routerId: '10.1.0.1',
  localAs: 65101,
  anycast: ['203.0.113.10/32'],
  announce: true,
  originate: ['10.1.0.0/24'],
  neighbors: [{ name: 'eu', address: '10.255.1.1', as: 65001, localAddress: '10.255.1.2', bfd: true }],
  timers: FAST_TIMERS,
  log: 'stderr',
};

test('edge config: anycast via lo, underlay aggregate, one session exporting only those, importing none', () => {
  assert.equal(
    renderEdgeConfig(edge),
    `# Rendered by Meridian; edits here are overwritten.
router id 10.1.0.1;
log stderr all;
timeformat protocol "%F_%T";

protocol device {
  scan time 10;
}

protocol static anycast {
  ipv4;
  route 203.0.113.10/32 via "lo";
}

protocol static underlay {
  ipv4;
  route 10.1.0.0/24 unreachable;
}

protocol bfd {
  interface "*" {
    min rx interval 100 ms;
    min tx interval 100 ms;
    multiplier 3;
  };
}

protocol bgp bgp_eu {
  local 10.255.1.2 as 65101;
  neighbor 10.255.1.1 as 65001;
  hold time 3;
  startup hold time 3;
  keepalive time 1;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  graceful restart off;
  bfd on;
  ipv4 {
    import none;
    export where net ~ [ 203.0.113.10/32, 10.1.0.0/24 ];
  };
}
`,
  );
});

test('edge config: not announcing renders the anycast routes out, the filter stays', () => {
  const off = renderEdgeConfig({ ...edge, announce: false });
  assert.match(off, /protocol static anycast \{\n  ipv4;\n\}/);
  assert.doesNotMatch(off, /route 203\.0\.113\.10/);
  assert.match(off, /export where net ~ \[ 203\.0\.113\.10\/32, 10\.1\.0\.0\/24 \];/);
  assert.match(off, /route 10\.1\.0\.0\/24 unreachable;/);
});

test('edge config: defaults — no timers, no BFD, no log; nothing to export is export none', () => {
  const c = renderEdgeConfig({ routerId: '10.1.0.1', localAs: 65101, anycast: [], announce: true, neighbors: [{ name: 'up1', address: '192.0.2.1', as: 64500 }] });
  assert.doesNotMatch(c, /hold time|protocol bfd|bfd on|^log /m);
  assert.match(c, /local as 65101;/);
  assert.match(c, /export none;/);
  assert.match(c, /graceful restart off;/);
});

test('edge config: refuses bad input, naming the field', () => {
  const bad: [Partial<EdgeBirdConfig>, RegExp][] = [
    [{ routerId: '10.1.0' }, /routerId/],
    [{ localAs: 0 }, /localAs/],
    [{ anycast: ['203.0.113.0/24'] }, /anycast\[0\]: 203\.0\.113\.0\/24 is not a \/32/],
    [{ anycast: ['203.0.113.10/32; }'] }, /anycast\[0\]/],
    [{ originate: ['10.1.0.1/24'] }, /originate\[0\]: host bits set/],
    [{ neighbors: [{ name: 'e u', address: '10.255.1.1', as: 65001 }] }, /neighbors\[0\]\.name/],
    [{ neighbors: [{ name: 'eu', address: '10.255.1.1', as: 65001 }, { name: 'eu', address: '10.255.1.5', as: 65001 }] }, /neighbors\[1\]\.name: eu is used twice/],
    [{ neighbors: [{ name: 'eu', address: '10.255.1.300', as: 65001 }] }, /neighbors\[0\]\.address/],
    [{ timers: { ...FAST_TIMERS, holdTime: 2 } }, /timers\.holdTime/],
    [{ timers: { ...FAST_TIMERS, keepaliveTime: 2 } }, /timers\.keepaliveTime: at most a third/],
    [{ bfd: { intervalMs: 1, multiplier: 3 } }, /bfd\.intervalMs/],
  ];
  for (const [over, re] of bad) assert.throws(() => renderEdgeConfig({ ...edge, ...over }), re, JSON.stringify(over));
});

test('router config: connected LANs originated, kernel gets learnt routes, sessions pass everything', () => {
  const c = renderRouterConfig({
    routerId: '10.255.255.2',
    localAs: 65002,
    neighbors: [
      { name: 'eu', address: '10.255.0.1', as: 65001, localAddress: '10.255.0.2' },
      { name: 'iad', address: '10.255.1.6', as: 65102, bfd: true },
    ],
    connectedInterfaces: ['mr1234us-cl'],
    timers: FAST_TIMERS,
  });
  assert.match(c, /protocol direct connected \{\n  ipv4;\n  interface "mr1234us-cl";\n\}/);
  assert.match(c, /protocol kernel \{\n  ipv4 \{\n    import none;\n    export where source != RTS_DEVICE;\n  \};\n\}/);
  assert.match(c, /protocol bgp bgp_eu \{\n  local 10\.255\.0\.2 as 65002;\n  neighbor 10\.255\.0\.1 as 65001;/);
  assert.match(c, /protocol bgp bgp_iad \{\n  local as 65002;\n  neighbor 10\.255\.1\.6 as 65102;[^}]*bfd on;\n  ipv4 \{\n    import all;\n    export all;/);
  assert.equal(c.match(/bfd on;/g)?.length, 1);
  assert.match(c, /protocol bfd \{/);
  assert.throws(() => renderRouterConfig({ routerId: '10.255.255.2', localAs: 65002, neighbors: [], connectedInterfaces: ['bad"name'] }), /connectedInterfaces\[0\]/);
});
