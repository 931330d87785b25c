// HTTP/1.1 upgrades through the real `meridian edge` process: only WebSocket
// is forwarded as an upgrade. `Upgrade: h2c` is ignored (the request served
// as plain HTTP/1.1 on the same connection, the instance seeing no Upgrade,
// Connection or HTTP2-Settings header), any other protocol gets 400 and
// reaches no instance, and WebSocket keeps working.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEdge, writeConfig, type Running } from '../testing/edge-process';
import { rawExchange } from '../testing/raw-socket';
import { instanceDoc, serviceDoc, TestUpstream } from '../testing/upstream-server';
import { nextMessage, openWs, WsEcho } from '../testing/ws-echo';

const H2C = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n';

function statuses(data: string): string[] {
  return [...data.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
}

describe('HTTP/1.1 upgrades (meridian edge process)', () => {
  let dir: string;
  let echo: TestUpstream;
  let wsInstance: WsEcho;
  let edge: Running | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-upgrades-'));
    echo = await TestUpstream.start('echo-1');
    wsInstance = await WsEcho.start('ws-1');
    const config = writeConfig(dir, [serviceDoc('echo'), instanceDoc('echo-1', 'echo', echo.port), serviceDoc('ws'), instanceDoc('ws-1', 'ws', wsInstance.port)]);
    edge = await startEdge(['--config', config, '--http', '127.0.0.1:0', '--access-log-sample', '0'], 'edge started', 60_000);
  });

  after(async () => {
    if (edge !== undefined) {
      edge.child.kill('SIGKILL');
      await edge.exit;
    }
    await echo.close();
    await wsInstance.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves an h2c upgrade request as HTTP/1.1, keeps the connection, and forwards none of the upgrade headers', async () => {
    const before = echo.received.length;
    const r = await rawExchange(
      edge!.port,
      `GET /first HTTP/1.1\r\nHost: echo.mesh\r\n${H2C}X-Kept: yes\r\n\r\n` + 'GET /second HTTP/1.1\r\nHost: echo.mesh\r\nConnection: close\r\n\r\n',
      10_000,
    );
    assert.deepEqual(statuses(r.data), ['200', '200'], r.data);
    assert.doesNotMatch(r.data, /101 Switching/);
    const seen = echo.received.slice(before);
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/first', '/second'],
    );
    assert.equal(seen[0].headers.upgrade, undefined);
    assert.equal(seen[0].headers['http2-settings'], undefined);
    assert.doesNotMatch(String(seen[0].headers.connection ?? ''), /upgrade|http2-settings/i);
    assert.equal(seen[0].headers['x-kept'], 'yes');
  });

  it('passes the body of an h2c upgrade request on', async () => {
    const before = echo.received.length;
    const r = await rawExchange(edge!.port, `POST /with-body HTTP/1.1\r\nHost: echo.mesh\r\n${H2C.replace('Connection: Upgrade', 'Connection: close, Upgrade')}Content-Length: 11\r\n\r\nhello there`, 10_000);
    assert.deepEqual(statuses(r.data), ['200'], r.data);
    const seen = echo.received.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].body, 'hello there');
    assert.equal(seen[0].headers.upgrade, undefined);
  });

  it('answers 400 to an upgrade to any other protocol, and the instance receives nothing', async () => {
    const before = echo.received.length;
    const r = await rawExchange(edge!.port, 'GET /foo HTTP/1.1\r\nHost: echo.mesh\r\nConnection: Upgrade\r\nUpgrade: foo/2\r\n\r\n', 10_000);
    assert.match(r.data, /^HTTP\/1\.1 400 /, r.data);
    assert.match(r.data, /upgrade to 'foo\/2' is not offered: only websocket upgrades are forwarded/);
    assert.ok(r.closed, 'connection closed');
    assert.equal(echo.received.length, before);
  });

  it('still forwards WebSocket upgrades', async () => {
    const { ws, response } = await openWs(edge!.port, '/', 'ws.mesh');
    try {
      assert.equal(response.statusCode, 101);
      assert.equal(String(wsInstance.upgrades.at(-1)!.headers.upgrade).toLowerCase(), 'websocket');
      ws.send('still');
      assert.equal((await nextMessage(ws)).data.toString(), 'still');
    } finally {
      ws.terminate();
    }
  });
});
