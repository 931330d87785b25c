import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseWgDump } from './wireguard-dump';
import { toPeerStatus } from './wireguard';

const PRIV = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const PUB = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';
const PEER1 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const PEER2 = 'TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=';

test('parses the interface line and peers, with (none), off and lists', () => {
  const text = [
    `${PRIV}\t${PUB}\t51820\toff`,
    `${PEER1}\t(none)\t10.2.0.1:51820\t10.99.0.2/32,10.99.1.0/24\t1732240000\t1234\t5678\t25`,
    `${PEER2}\t(none)\t(none)\t(none)\t0\t0\t0\toff`,
    '',
  ].join('\n');
  const d = parseWgDump(text);
  assert.deepEqual(d.iface, { privateKey: PRIV, publicKey: PUB, listenPort: 51820, fwmark: null });
  assert.deepEqual(d.peers[0], {
    publicKey: PEER1,
    presharedKey: null,
    endpoint: '10.2.0.1:51820',
    allowedIps: ['10.99.0.2/32', '10.99.1.0/24'],
    latestHandshake: 1732240000,
    rxBytes: 1234,
    txBytes: 5678,
    persistentKeepalive: 25,
  });
  assert.deepEqual(d.peers[1], { publicKey: PEER2, presharedKey: null, endpoint: null, allowedIps: [], latestHandshake: 0, rxBytes: 0, txBytes: 0, persistentKeepalive: null });
});

test('an interface without peers or key; fwmark set', () => {
  assert.deepEqual(parseWgDump(`(none)\t(none)\t0\t0x1234\n`.replace('0x1234', '4660')), { iface: { privateKey: null, publicKey: null, listenPort: 0, fwmark: 4660 }, peers: [] });
});

test('peer status: handshake time in ms, null when never', () => {
  const d = parseWgDump([`${PRIV}\t${PUB}\t51820\toff`, `${PEER1}\t(none)\t10.2.0.1:51820\t10.99.0.2/32\t1732240000\t1\t2\toff`, `${PEER2}\t(none)\t(none)\t10.99.0.3/32\t0\t0\t0\toff`].join('\n'));
  assert.deepEqual(toPeerStatus(d), [
    { publicKey: PEER1, endpoint: '10.2.0.1:51820', allowedIps: ['10.99.0.2/32'], latestHandshakeAtMs: 1732240000000, rxBytes: 1, txBytes: 2 },
    { publicKey: PEER2, endpoint: null, allowedIps: ['10.99.0.3/32'], latestHandshakeAtMs: null, rxBytes: 0, txBytes: 0 },
  ]);
});

test('refuses malformed dumps', () => {
  assert.throws(() => parseWgDump(''), /empty/);
  assert.throws(() => parseWgDump('a\tb\tc'), /interface line/);
  assert.throws(() => parseWgDump(`${PRIV}\t${PUB}\t51820\toff\n${PEER1}\t(none)\t(none)`), /peer line 1/);
  assert.throws(() => parseWgDump(`${PRIV}\t${PUB}\tport\toff`), /not a number/);
});
