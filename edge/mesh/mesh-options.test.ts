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

describe('the mesh listener and TCP flags', () => {
  it('defaults what DNS gives out to the --mesh-http host, and needs it named for a wildcard bind', () => {
    assert.deepEqual(parseMeshOptions({ 'mesh-http': '10.1.0.5:80' }, 'edge', fail).mesh?.advertise, ['10.1.0.5']);
    assert.throws(() => parseMeshOptions({ 'mesh-http': '0.0.0.0:80' }, 'edge', fail), /--mesh-advertise: the mesh listener binds '0\.0\.0\.0', not one address/);
    assert.throws(() => parseMeshOptions({ 'mesh-http': '10.1.0.5:80' }, 'ingress', fail), /runs in an edge/);
    assert.throws(() => parseMeshOptions({ 'mesh-advertise': ['10.1.0.5'] }, 'edge', fail), /--mesh-advertise needs --mesh-http or --mesh-https/);
  });

  it('takes --tcp-host as an address and bounds --tcp-max-connections', () => {
    const o = parseMeshOptions({ 'tcp-host': '127.0.1.2', 'tcp-max-connections': '500' }, 'edge', fail);
    assert.deepEqual(o.tcp, { maxConnections: 500, host: '127.0.1.2' });
    assert.equal(parseMeshOptions({}, 'edge', fail).tcp.maxConnections, 10_000);
    assert.throws(() => parseMeshOptions({ 'tcp-host': 'edge.example.com' }, 'edge', fail), /--tcp-host: expected an IPv4 or IPv6 address/);
    assert.throws(() => parseMeshOptions({ 'tcp-max-connections': '0' }, 'edge', fail), /--tcp-max-connections: expected an integer from 1 to 1000000, got '0'/);
    assert.throws(() => parseMeshOptions({ 'tcp-max-connections': '1e9' }, 'edge', fail), /--tcp-max-connections/);
  });
});
