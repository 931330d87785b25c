import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accept, assertRefused, resource } from '../validation-assertions';

const region = (spec: unknown) => resource('Region', spec, 'fra');
const location = { latitude: 50.11, longitude: 8.68 };

describe('Region', () => {
  it('accepts the example and fills the defaults', () => {
    const doc = accept(
      region({
        location,
        displayName: 'Frankfurt',
        tunnel: { address: '10.99.0.1' },
        bgp: { localAsn: 65001, anycast: ['203.0.113.10', '2001:db8::10'], neighbors: [{ address: '192.0.2.1', asn: 65000 }] },
      }),
    );
    assert.deepEqual(doc.spec, {
      location,
      displayName: 'Frankfurt',
      tunnel: { address: '10.99.0.1', listenPort: 51820 },
      bgp: { localAsn: 65001, anycast: ['203.0.113.10', '2001:db8::10'], neighbors: [{ address: '192.0.2.1', asn: 65000, bfd: false }] },
    });
  });

  it('needs only a location', () => {
    assert.deepEqual(accept(region({ location })).spec, { location });
  });

  it('requires a location with latitude -90..90 and longitude -180..180', () => {
    assertRefused(region({}), 'spec.location', 'required');
    assertRefused(region({ location: { latitude: 90.5, longitude: 0 } }), 'spec.location.latitude', 'must be a number from -90 to 90');
    assertRefused(region({ location: { latitude: 0, longitude: -181 } }), 'spec.location.longitude', 'must be a number from -180 to 180');
    assertRefused(region({ location: { latitude: '50', longitude: 0 } }), 'spec.location.latitude', 'must be a number, got string');
    accept(region({ location: { latitude: -90, longitude: 180 } }));
  });

  it('requires IP addresses for the tunnel and BGP', () => {
    assertRefused(region({ location, tunnel: { address: 'fra.internal' } }), 'spec.tunnel.address', 'must be an IPv4 or IPv6 address, got "fra.internal"');
    assertRefused(region({ location, tunnel: {} }), 'spec.tunnel.address', 'required');
    assertRefused(region({ location, tunnel: { address: '10.0.0.1', listenPort: 70000 } }), 'spec.tunnel.listenPort', 'must be an integer from 1 to 65535');
    const bgp = { localAsn: 65001, anycast: ['203.0.113.10'], neighbors: [{ address: '192.0.2.1', asn: 65000 }] };
    assertRefused(region({ location, bgp: { ...bgp, anycast: ['203.0.113.0/24'] } }), 'spec.bgp.anycast[0]', /^must be an IPv4 or IPv6 address/);
    assertRefused(region({ location, bgp: { ...bgp, anycast: [] } }), 'spec.bgp.anycast', 'needs at least one address to announce');
    assertRefused(region({ location, bgp: { ...bgp, neighbors: [{ address: '192.0.2.1', asn: 0 }] } }), 'spec.bgp.neighbors[0].asn', 'must be an integer from 1 to 4294967295');
    assertRefused(region({ location, bgp: { ...bgp, neighbors: [{ address: '192.0.2.1', asn: 1, bfd: 'yes' }] } }), 'spec.bgp.neighbors[0].bfd', 'must be a boolean (true or false), got string');
  });

  it('takes instance networks: IPv4 and IPv6 CIDRs, host bits zero, at most 64', () => {
    const networks = ['10.1.0.0/16', 'fd00:1::/64', '127.0.0.0/8', '192.0.2.7'];
    assert.deepEqual(accept(region({ location, instanceNetworks: networks })).spec, { location, instanceNetworks: networks });
    assertRefused(region({ location, instanceNetworks: ['10.1.2.3/16'] }), 'spec.instanceNetworks[0]', /host bits set: the network is 10\.1\.0\.0\/16/);
    assertRefused(region({ location, instanceNetworks: ['10.1.0.0/16', '10.0.0.0/33'] }), 'spec.instanceNetworks[1]', /prefix length must be from 0 to 32/);
    assertRefused(region({ location, instanceNetworks: ['fd00::/129'] }), 'spec.instanceNetworks[0]', /prefix length must be from 0 to 128/);
    assertRefused(region({ location, instanceNetworks: ['fra.internal/24'] }), 'spec.instanceNetworks[0]', /not an IPv4 or IPv6 network/);
    const many = Array.from({ length: 65 }, (_, i) => `10.${i}.0.0/16`);
    assertRefused(region({ location, instanceNetworks: many }), 'spec.instanceNetworks', 'must list at most 64 networks');
  });

  it('bounds the display name at 64 characters and the BGP lists at 16', () => {
    accept(region({ location, displayName: 'F'.repeat(64) }));
    assertRefused(region({ location, displayName: 'F'.repeat(65) }), 'spec.displayName', 'must be at most 64 characters');
    const addresses = (n: number) => Array.from({ length: n }, (_, i) => `203.0.113.${i + 1}`);
    const neighbors = (n: number) => Array.from({ length: n }, (_, i) => ({ address: `192.0.2.${i + 1}`, asn: 65000 }));
    accept(region({ location, bgp: { localAsn: 65001, anycast: addresses(16), neighbors: neighbors(16) } }));
    assertRefused(region({ location, bgp: { localAsn: 65001, anycast: addresses(17), neighbors: neighbors(1) } }), 'spec.bgp.anycast', 'must list at most 16 addresses');
    assertRefused(region({ location, bgp: { localAsn: 65001, anycast: addresses(1), neighbors: neighbors(17) } }), 'spec.bgp.neighbors', 'must list at most 16 neighbors');
    accept(region({ location, instanceNetworks: Array.from({ length: 64 }, (_, i) => `10.${i}.0.0/16`) }));
  });
});
