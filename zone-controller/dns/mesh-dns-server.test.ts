import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket, Packet, RecordType } from 'dns-packet';
import { silentLogger } from '../../lib/observability/logger';
import { MeshDnsServer } from './mesh-dns-server';

const services: Record<string, { v4: string[]; v6: string[] }> = {
  echo: { v4: ['10.0.0.1', '10.0.0.2'], v6: ['fd00::1'] },
  'v4-only': { v4: ['10.0.0.3'], v6: [] },
  big: { v4: Array.from({ length: 40 }, (_, i) => `10.1.0.${i + 1}`), v6: [] },
  broken: { v4: ['not-an-address'], v6: [] },
};

let server: MeshDnsServer;
let port: number;

before(async () => {
  server = new MeshDnsServer({ host: '127.0.0.1', port: 0, resolve: (name) => {
      if (name === 'throws') throw new Error('resolver failed');
      return services[name];
    }, ttlSeconds: 5, logger: silentLogger() });
  await server.start();
  port = server.address().port;
});

after(async () => {
  await server.stop();
});

let nextId = 1;
function query(name: string, type: RecordType = 'A', extra: Partial<Packet> = {}): Packet {
  return { type: 'query', id: nextId++, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, class: 'IN', name }], ...extra };
}

// Sends raw bytes over UDP; resolves with the decoded answer, or undefined if none came within waitMs.
function udpRaw(message: Buffer, waitMs = 1000): Promise<DecodedPacket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, waitMs);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(dnsPacket.decode(reply));
    });
    socket.on('error', reject);
    socket.send(message, port, '127.0.0.1');
  });
}

async function udp(packet: Packet): Promise<DecodedPacket> {
  const reply = await udpRaw(dnsPacket.encode(packet));
  assert.ok(reply, 'no UDP answer');
  return reply;
}

// Sends length-prefixed messages over one TCP connection; resolves with the
// decoded answers and whether the server closed the connection.
function tcpRaw(frames: Buffer[], expectedAnswers: number): Promise<{ answers: DecodedPacket[]; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const answers: DecodedPacket[] = [];
    let pending = Buffer.alloc(0);
    const done = (closedByServer: boolean): void => {
      socket.destroy();
      resolve({ answers, closedByServer });
    };
    socket.on('connect', () => {
      for (const frame of frames) socket.write(frame);
    });
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const length = pending.readUInt16BE(0);
        answers.push(dnsPacket.decode(pending.subarray(2, 2 + length)));
        pending = pending.subarray(2 + length);
      }
      if (answers.length === expectedAnswers) done(false);
    });
    socket.on('end', () => done(true));
    socket.on('error', reject);
  });
}

async function tcp(packet: Packet): Promise<DecodedPacket> {
  const { answers } = await tcpRaw([dnsPacket.streamEncode(packet)], 1);
  return answers[0]!;
}

function rcodeOf(packet: DecodedPacket): string {
  return (packet as DecodedPacket & { rcode: string }).rcode;
}

for (const [transport, ask] of [['UDP', udp], ['TCP', tcp]] as const) {
  test(`${transport}: A for a known service, authoritative, no recursion`, async () => {
    const q = query('echo.mesh');
    const reply = await ask(q);
    assert.equal(reply.id, q.id);
    assert.equal(reply.type, 'response');
    assert.equal(rcodeOf(reply), 'NOERROR');
    assert.equal(reply.flag_aa, true);
    assert.equal(reply.flag_ra, false);
    assert.equal(reply.flag_rd, true);
    assert.deepEqual(reply.questions, q.questions);
    assert.deepEqual(reply.answers!.map((a) => [a.type, a.name, (a as { ttl: number }).ttl, (a as { data: string }).data]), [
      ['A', 'echo.mesh', 5, '10.0.0.1'],
      ['A', 'echo.mesh', 5, '10.0.0.2'],
    ]);
  });

  test(`${transport}: AAAA, case-insensitive, trailing dot`, async () => {
    const reply = await ask(query('ECHO.Mesh.', 'AAAA'));
    assert.equal(rcodeOf(reply), 'NOERROR');
    assert.deepEqual(reply.answers!.map((a) => [a.type, (a as { data: string }).data]), [['AAAA', 'fd00::1']]);
  });

  test(`${transport}: a known name without addresses of that family has no answers`, async () => {
    const reply = await ask(query('v4-only.mesh', 'AAAA'));
    assert.equal(rcodeOf(reply), 'NOERROR');
    assert.deepEqual(reply.answers, []);
    const txt = await ask(query('echo.mesh', 'TXT'));
    assert.equal(rcodeOf(txt), 'NOERROR');
    assert.deepEqual(txt.answers, []);
  });

  test(`${transport}: NXDOMAIN for unknown services and deeper names`, async () => {
    for (const name of ['nope.mesh', 'a.echo.mesh', 'under_score.mesh']) {
      const reply = await ask(query(name));
      assert.equal(rcodeOf(reply), 'NXDOMAIN', name);
      assert.equal(reply.flag_aa, true);
    }
  });

  test(`${transport}: REFUSED for names outside mesh`, async () => {
    for (const name of ['example.com', 'mesh.example.com', 'meshy', '.']) {
      const reply = await ask(query(name));
      assert.equal(rcodeOf(reply), 'REFUSED', name);
      assert.equal(reply.flag_ra, false);
      assert.deepEqual(reply.answers, []);
    }
  });

  test(`${transport}: a failing resolver or bad data from it is SERVFAIL for that query only`, async () => {
    assert.equal(rcodeOf(await ask(query('broken.mesh'))), 'SERVFAIL');
    assert.equal(rcodeOf(await ask(query('throws.mesh'))), 'SERVFAIL');
    assert.equal(rcodeOf(await ask(query('echo.mesh'))), 'NOERROR');
  });
}

test('UDP: a malformed packet is dropped and the next query is still answered', async () => {
  assert.equal(await udpRaw(Buffer.from([1, 2, 3]), 200), undefined);
  const good = dnsPacket.encode(query('echo.mesh'));
  assert.equal(await udpRaw(good.subarray(0, good.length - 3), 200), undefined);
  const reply = await udp(query('echo.mesh'));
  assert.equal(rcodeOf(reply), 'NOERROR');
  assert.equal(reply.answers!.length, 2);
});

test('UDP: a response packet is not answered', async () => {
  const notAQuery = dnsPacket.encode({ ...query('echo.mesh'), type: 'response' });
  assert.equal(await udpRaw(notAQuery, 200), undefined);
});

test('UDP: an answer too large for 512 bytes is truncated (TC), and complete over TCP', async () => {
  const truncated = await udp(query('big.mesh'));
  assert.equal(truncated.flag_tc, true);
  assert.deepEqual(truncated.answers, []);

  const full = await tcp(query('big.mesh'));
  assert.equal(full.flag_tc, false);
  assert.equal(full.answers!.length, 40);
});

test('UDP: EDNS raises the size limit and is echoed', async () => {
  const opt = { type: 'OPT' as const, name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
  const reply = await udp(query('big.mesh', 'A', { additionals: [opt] }));
  assert.equal(reply.flag_tc, false);
  assert.equal(reply.answers!.length, 40);
  assert.equal(reply.additionals![0]!.type, 'OPT');
});

test('TCP: several queries on one connection, split across writes', async () => {
  const frames = Buffer.concat([dnsPacket.streamEncode(query('echo.mesh')), dnsPacket.streamEncode(query('nope.mesh'))]);
  const { answers, closedByServer } = await tcpRaw([frames.subarray(0, 5), frames.subarray(5, 40), frames.subarray(40)], 2);
  assert.equal(closedByServer, false);
  assert.deepEqual(answers.map(rcodeOf), ['NOERROR', 'NXDOMAIN']);
});

test('TCP: a malformed message closes the connection; the server keeps answering', async () => {
  const garbage = Buffer.from([0, 3, 1, 2, 3]);
  const { answers, closedByServer } = await tcpRaw([garbage], 1);
  assert.equal(closedByServer, true);
  assert.deepEqual(answers, []);
  assert.equal(rcodeOf(await tcp(query('echo.mesh'))), 'NOERROR');
  assert.equal(rcodeOf(await udp(query('echo.mesh'))), 'NOERROR');
});
