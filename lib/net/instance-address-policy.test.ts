import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InstanceAddressPolicy } from './instance-address-policy';
import { parseIp, parseIpNetwork, contains } from './ip-network';

const refusedBy = (policy: InstanceAddressPolicy, address: string): string => {
  const verdict = policy.check(address);
  assert.equal(verdict.ok, false, `${address} should be refused`);
  return (verdict as { reason: string }).reason;
};

describe('instance address policy', () => {
  it('defaults to the private ranges, IPv4 and IPv6', () => {
    const policy = new InstanceAddressPolicy(undefined);
    for (const a of ['10.0.0.1', '172.16.5.4', '172.31.255.254', '192.168.1.1', 'fd12:3456::1', 'fc00::1', '::ffff:10.1.2.3']) assert.deepEqual(policy.check(a), { ok: true }, a);
    assert.match(refusedBy(policy, '8.8.8.8'), /outside the private ranges \(10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16, fc00::\/7\), the default when the Region sets no spec\.instanceNetworks/);
    assert.match(refusedBy(policy, '172.32.0.1'), /outside/);
    assert.match(refusedBy(policy, '2001:db8::1'), /outside/);
    assert.match(refusedBy(policy, '127.0.0.1'), /loopback is allowed only when the Region lists it/);
    assert.match(refusedBy(policy, '::1'), /loopback is allowed only when the Region lists it/);
    assert.equal(new InstanceAddressPolicy([]).check('10.0.0.1').ok, true, 'an empty list is the default');
  });

  it("takes the Region's networks instead, loopback included when listed", () => {
    const policy = new InstanceAddressPolicy(['10.1.0.0/16', '127.0.0.0/8', 'fd00:1::/64']);
    for (const a of ['10.1.200.3', '127.0.0.1', 'fd00:1::5']) assert.deepEqual(policy.check(a), { ok: true }, a);
    assert.match(refusedBy(policy, '10.2.0.1'), /10\.2\.0\.1 is outside the region's instance networks \(spec\.instanceNetworks: 10\.1\.0\.0\/16, 127\.0\.0\.0\/8, fd00:1::\/64\)/);
    assert.match(refusedBy(policy, 'fd00:2::1'), /outside/);
  });

  it('always refuses metadata, link-local, unspecified, multicast and broadcast addresses, whatever the Region lists', () => {
    const everything = new InstanceAddressPolicy(['0.0.0.0/0', '::/0']);
    const cases: [string, RegExp][] = [
      ['169.254.169.254', /cloud metadata/],
      ['fd00:ec2::254', /cloud metadata/],
      ['100.100.100.200', /cloud metadata/],
      ['::ffff:169.254.169.254', /cloud metadata/],
      ['::ffff:a9fe:a9fe', /cloud metadata/],
      ['64:ff9b::a9fe:a9fe', /cloud metadata/],
      ['169.254.1.1', /link-local/],
      ['fe80::1', /link-local/],
      ['0.0.0.0', /unspecified/],
      ['::', /unspecified/],
      ['224.0.0.1', /multicast/],
      ['ff02::1', /multicast/],
      ['255.255.255.255', /broadcast/],
    ];
    for (const [address, why] of cases) assert.match(refusedBy(everything, address), why, address);
    assert.match(refusedBy(new InstanceAddressPolicy(['fd00::/8']), 'fd00:ec2::254'), /cloud metadata/);
    assert.match(refusedBy(everything, 'fe80::1%eth0'), /not an IPv4 or IPv6 address/);
    assert.match(refusedBy(everything, 'example.com'), /not an IPv4 or IPv6 address/);
    assert.deepEqual(everything.check('8.8.8.8'), { ok: true });
  });
});

describe('ip networks', () => {
  it('parse IPv4 and IPv6 with their lengths and refuse host bits', () => {
    assert.ok(contains(parseIpNetwork('10.0.0.0/8'), parseIp('10.255.0.1')!));
    assert.ok(!contains(parseIpNetwork('10.0.0.0/8'), parseIp('11.0.0.1')!));
    assert.ok(contains(parseIpNetwork('2001:db8::/32'), parseIp('2001:db8:ffff::1')!));
    assert.ok(!contains(parseIpNetwork('2001:db8::/32'), parseIp('10.0.0.1')!), 'families do not mix');
    assert.ok(contains(parseIpNetwork('::/0'), parseIp('::1')!));
    assert.ok(contains(parseIpNetwork('192.0.2.7'), parseIp('192.0.2.7')!), 'a bare address is a network of one');
    assert.throws(() => parseIpNetwork('10.0.0.1/8'), /host bits set: the network is 10\.0\.0\.0\/8/);
    assert.throws(() => parseIpNetwork('fd00::1/8'), /host bits set: the network is fd00::\/8/);
    assert.throws(() => parseIpNetwork('10.0.0.0/33'), /prefix length must be from 0 to 32/);
    assert.throws(() => parseIpNetwork('10.0.0.0/'), /prefix length/);
    assert.throws(() => parseIpNetwork('10.0.0/8'), /not an IPv4 or IPv6 network/);
  });
});
