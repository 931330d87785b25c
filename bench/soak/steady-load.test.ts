// The soak's load: a fixed rate, bounded in count and time, answers counted
// per region, failures kept, and the warm-up counted apart.
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SteadyLoad } from './steady-load';

test('sends at the rate until the count bound, counts answers and failures, resets after the warm-up', async (t) => {
  let n = 0;
  const server = http.createServer((req, res) => {
    n++;
    // Every tenth request fails; the others come from "fra".
    if (n % 10 === 0) return void res.writeHead(503).end('no');
    res.writeHead(200, { 'x-meridian-region': req.headers.host === 'echo.mesh' ? 'fra' : '?' }).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const load = new SteadyLoad([{ name: 'a', origin, host: 'echo.mesh' }], 200, 300, 10_000);
  const started = Date.now();
  const done = load.start();
  await new Promise((r) => setTimeout(r, 500));
  const warmup = load.resetTotals();
  await done;
  const ms = Date.now() - started;
  await load.close();
  const sent = warmup.sent + load.totals.sent;
  t.diagnostic(`300 requests at 200/s in ${ms} ms; warm-up ${warmup.sent}, then ${load.totals.sent}`);
  assert.equal(sent + warmup.notSent + load.totals.notSent, 300, 'the count bound');
  assert.ok(ms >= 1400, `not faster than 200/s: 300 requests in ${ms} ms`);
  assert.equal(warmup.ok + warmup.failed + load.totals.ok + load.totals.failed, sent, 'every request has its answer');
  assert.equal(load.totals.ok + load.totals.failed, load.totals.sent, 'answers count where their requests did');
  // What the server saw: on a stalled loop a late tick may find the
  // outstanding limit reached and count requests as not sent.
  assert.equal(n, sent, 'every request sent reached the server');
  assert.equal(warmup.failed + load.totals.failed, Math.floor(n / 10));
  assert.match([...warmup.failures, ...load.totals.failures][0]!.error, /HTTP 503/);
  assert.equal((warmup.byRegion.fra ?? 0) + (load.totals.byRegion.fra ?? 0), n - Math.floor(n / 10));
});
