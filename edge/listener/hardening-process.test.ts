// The listener's refusals through the real `meridian edge --config` process,
// while a well-behaved client keeps sending requests to another service the
// whole time: smuggling shapes get 400, oversized headers 431, a slowloris
// connection is closed at the header timeout with 408, h2c and WebSocket
// clients keep working, the instance behind the refused requests receives
// not one byte, and the well-behaved client never sees a failure.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { startEdge, writeConfig, type Running } from '../testing/edge-process';
import { echoClient, GrpcEcho, say } from '../testing/grpc-echo';
import { get } from '../testing/http-client';
import { rawExchange, slowloris } from '../testing/raw-socket';
import { SMUGGLING_SHAPES } from '../testing/smuggling';
import { instanceDoc, serviceDoc, TestUpstream } from '../testing/upstream-server';
import { nextMessage, openWs, WsEcho } from '../testing/ws-echo';

describe('listener hardening (meridian edge process)', () => {
  let dir: string;
  let target: TestUpstream;
  let ok: TestUpstream;
  let grpcInstance: GrpcEcho;
  let wsInstance: WsEcho;
  let edge: Running;
  const agent = new Agent({ connections: 2 });
  // The well-behaved client: a GET every few milliseconds until stopped.
  const served = { ok: 0, failed: [] as string[] };
  let stop = false;
  let client: Promise<void>;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-hardening-'));
    target = await TestUpstream.start('target');
    ok = await TestUpstream.start('ok');
    grpcInstance = await GrpcEcho.start('grpc-1');
    wsInstance = await WsEcho.start('ws-1');
    const config = writeConfig(dir, [
      serviceDoc('echo'),
      instanceDoc('target-1', 'echo', target.port),
      serviceDoc('ok'),
      instanceDoc('ok-1', 'ok', ok.port),
      serviceDoc('rpc', { ports: [{ name: 'grpc', port: 9000, protocol: 'grpc' }] }),
      instanceDoc('rpc-1', 'rpc', grpcInstance.port),
      serviceDoc('ws'),
      instanceDoc('ws-1', 'ws', wsInstance.port),
    ]);
    edge = await startEdge(['--config', config, '--http', '127.0.0.1:0', '--headers-timeout', '500ms', '--max-header-size', '8192', '--access-log-sample', '0']);
    const deadline = Date.now() + 60_000;
    client = (async () => {
      for (let i = 0; i < 20_000 && !stop && Date.now() < deadline; i++) {
        try {
          const r = await get(edge.port, `/ok/${i}`, { host: 'ok.mesh', dispatcher: agent, timeoutMs: 5_000 });
          if (r.status === 200) served.ok++;
          else served.failed.push(`${i}: ${r.status}`);
        } catch (err) {
          served.failed.push(`${i}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  });

  after(async () => {
    stop = true;
    await client;
    edge.child.kill('SIGKILL');
    await edge.exit;
    await agent.close();
    await target.close();
    await ok.close();
    await grpcInstance.close();
    await wsInstance.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, text] of SMUGGLING_SHAPES) {
    it(`answers 400 to ${name} and closes the connection`, async () => {
      const r = await rawExchange(edge.port, text);
      assert.match(r.data, /^HTTP\/1\.1 400 /, r.data);
      assert.ok(r.closed, 'connection closed');
    });
  }

  it('answers 431 to oversized headers', async () => {
    const r = await rawExchange(edge.port, `GET / HTTP/1.1\r\nHost: echo.mesh\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`);
    assert.match(r.data, /^HTTP\/1\.1 431 /);
    assert.ok(r.closed);
  });

  it('closes a slowloris connection at the header timeout (408)', async () => {
    const r = await slowloris(edge.port, 50, 5_000);
    assert.ok(r.closed, 'closed by the server');
    assert.ok(r.ms >= 400, `closed after ${r.ms} ms, before the header timeout (500 ms)`);
    assert.match(r.data, /^HTTP\/1\.1 408 /);
  });

  it('closes a connection that sends nothing within the header timeout', async () => {
    const r = await rawExchange(edge.port, '', 5_000);
    assert.ok(r.closed);
    assert.ok(r.ms >= 400, `closed after ${r.ms} ms, before the header timeout (500 ms)`);
  });

  it('keeps serving gRPC (h2c) and WebSocket clients meanwhile', async () => {
    const grpcClient = echoClient(edge.port, { authority: 'rpc.mesh' });
    try {
      assert.equal((await say(grpcClient, { text: 'still' })).reply.text, 'still');
    } finally {
      grpcClient.close();
    }
    const { ws } = await openWs(edge.port, '/', 'ws.mesh');
    try {
      ws.send('still');
      assert.equal((await nextMessage(ws)).data.toString(), 'still');
    } finally {
      ws.terminate();
    }
  });

  it('never let a byte of the refused requests reach their instance, and never failed the well-behaved client', async () => {
    // Time for anything smuggled to arrive if it had been forwarded.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(target.received.length, 0);
    assert.equal(target.bytesReceived(), 0, 'the instance behind echo.mesh received nothing');
    stop = true;
    await client;
    assert.deepEqual(served.failed, []);
    assert.ok(served.ok >= 20, `the well-behaved client was served ${served.ok} times`);
    assert.equal(ok.received.length, served.ok);
  });
});
