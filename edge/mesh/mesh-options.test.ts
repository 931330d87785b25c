import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MESH_ADDRESSES } from '../../lib/net/mesh-addresses';
import { parseMeshOptions } from './mesh-options';

const fail = (message: string) => new Error(message);

// --mesh-advertise is held to the rule the zone holds a report's mesh_addresses to.
describe('--mesh-advertise', () => {
  it(`takes up to ${MAX_MESH_ADDRESSES} IP addresses`, () => {
    const advertise = Array.from({ length: MAX_MESH_ADDRESSES }, (_, i) => `10.1.0.${i + 1}`);
    assert.deepEqual(parseMeshOptions({ 'mesh-http': '0.0.0.0:80', 'mesh-advertise': advertise }, 'edge', fail).mesh?.advertise, advertise);
  });

  it('refuses more, and an address with a zone id', () => {
    const advertise = Array.from({ length: MAX_MESH_ADDRESSES + 1 }, (_, i) => `10.1.0.${i + 1}`);
    assert.throws(() => parseMeshOptions({ 'mesh-http': '0.0.0.0:80', 'mesh-advertise': advertise }, 'edge', fail), /--mesh-advertise: at most 16 addresses, got 17/);
    assert.throws(() => parseMeshOptions({ 'mesh-http': '[::]:80', 'mesh-advertise': ['fe80::1%eth0'] }, 'edge', fail), /--mesh-advertise: expected an IPv4 or IPv6 address, got 'fe80::1%eth0'/);
  });
});
