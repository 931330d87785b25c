// What a proxy may report as its mesh listener's addresses (and an edge take
// for --mesh-advertise): addresses a workload can call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { meshAddressesProblem } from './mesh-addresses';

describe('mesh addresses', () => {
  it('takes private, public and loopback IPv4 and IPv6 addresses', () => {
    assert.equal(meshAddressesProblem(['10.1.0.10', '203.0.113.7', '127.0.1.1', 'fd00::10', '2001:db8::1']), undefined);
  });

  it('refuses addresses that send a workload nowhere, or to itself, naming the entry', () => {
    for (const [address, why] of [
      ['0.0.0.0', /unspecified/],
      ['::', /the unspecified address/],
      ['169.254.169.254', /cloud metadata service/],
      ['::ffff:169.254.169.254', /cloud metadata service/],
      ['fe80::1', /link-local/],
      ['224.0.0.251', /multicast/],
      ['ff02::1', /multicast/],
      ['255.255.255.255', /broadcast/],
    ] as const) {
      const problem = meshAddressesProblem(['10.1.0.10', address]);
      assert.ok(problem !== undefined, address);
      assert.match(problem, /^mesh_addresses\[1\]: /);
      assert.match(problem, why);
    }
  });

  it('refuses more than 16 and what is not an IP literal', () => {
    assert.match(meshAddressesProblem(Array.from({ length: 17 }, (_, i) => `10.0.0.${i + 1}`))!, /at most 16/);
    assert.match(meshAddressesProblem(['echo.mesh'])!, /must be an IPv4 or IPv6 address/);
  });
});
