// The admin API against hostile input, on real etcd and two real global
// controller replicas: bodies built to exhaust the parser are refused within
// their bounds while the leader keeps its etcd lease (the other replica would
// take over if it lost it), the memory comes back, and a malformed URL on any
// route is a short 400 that leaves no stack anywhere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { ADMIN_TOKEN, ControlPlane, type GlobalControllerProcess } from './harness/global-controller-process';
import { waitFor } from './harness/child-process';

const MiB = 1024 * 1024;
const BAD = '%E0%A4%A';

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m![1]) / 1024);
}

function serviceYaml(i: number): string {
  return `apiVersion: meridian.dev/v1\nkind: Service\nmetadata:\n  name: bulk-${i}\nspec:\n  hosts: [bulk-${i}.example.com]\n`;
}

// A raw request: the target goes to the server as written, and a body
// without a content-length is sent chunked, in 64 KiB writes, until the
// server answers or it is all sent.
function rawRequest(port: number, method: string, target: string, body?: { chunked: Buffer }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' }, timeout: 30_000 });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${target}: no answer in 30 s`)));
    // The server may close its side once it has answered a refused body.
    req.on('error', (err) => (answered ? undefined : reject(err)));
    if (!body) return void req.end();
    const data = body.chunked;
    let offset = 0;
    const pump = (): void => {
      while (offset < data.length && !answered) {
        const chunk = data.subarray(offset, offset + 64 * 1024);
        offset += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

// Watches both replicas' /healthz while hostile requests run: any answer in
// which the leader is not leader, or the other one is, is recorded.
function watchLeadership(leader: GlobalControllerProcess, other: GlobalControllerProcess) {
  const lapses: string[] = [];
  let slowestMs = 0;
  let polls = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      const [a, b] = await Promise.all(
        [leader, other].map((r) =>
          fetch(`${r.url}/healthz`, { signal: AbortSignal.timeout(20_000) }).then(
            (res) => res.json() as Promise<{ leader: boolean }>,
            (err: Error) => ({ leader: undefined, error: err.message }),
          ),
        ),
      );
      slowestMs = Math.max(slowestMs, Date.now() - started);
      polls++;
      if (a!.leader !== true) lapses.push(`${leader.name}: ${JSON.stringify(a)}`);
      if (b!.leader !== false) lapses.push(`${other.name}: ${JSON.stringify(b)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { lapses, slowestMs, polls };
    },
  };
}

describe('admin API: hostile input', () => {
  const cp = new ControlPlane();
  let leader: GlobalControllerProcess;
  let other: GlobalControllerProcess;

  before(async () => {
    await cp.start(2);
    leader = await waitFor('a leader', async () => {
      const states = await Promise.all(cp.replicas.map(async (r) => ((await r.health()).leader ? r : undefined)));
      return states.find(Boolean);
    }, 30_000);
    other = cp.replicas.find((r) => r !== leader)!;
  });
  after(() => cp.stop());

  it('refuses a million empty documents and parser bombs within bounds; the leader keeps its lease and its memory comes back', async () => {
    // A first apply loads what every apply uses, so the baseline includes it.
    assert.equal((await cp.api('POST', '/v1/apply', serviceYaml(0), ADMIN_TOKEN, leader)).status, 200);
    const pid = leader.pid!;
    const before = rssMb(pid);
    const watch = watchLeadership(leader, other);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
    const started = Date.now();
    let watched: Awaited<ReturnType<typeof watch.stop>>;
    try {
      // 4 MB of `---\n`: a million empty documents, over the body limit.
      const million = await cp.api('POST', '/v1/apply', '---\n'.repeat(1_000_000), ADMIN_TOKEN, leader);
      assert.equal(million.status, 413, JSON.stringify(million.body));
      assert.match(million.body.error, /over the limit of 1 MiB/);
      // The same sent chunked, with no length to refuse it by: refused at 1 MiB.
      const chunked = await rawRequest(leader.httpPort, 'POST', '/v1/apply', { chunked: Buffer.from('---\n'.repeat(1_000_000)) });
      assert.equal(chunked.status, 413, chunked.text);
      assert.match(JSON.parse(chunked.text).error, /over the limit of 1 MiB/);
      // Just under 1 MiB of them: 262,143 documents, refused at document 1000.
      const empties = await cp.api('POST', '/v1/apply', '---\n'.repeat(MiB / 4 - 1), ADMIN_TOKEN, leader);
      assert.equal(empties.status, 413, JSON.stringify(empties.body));
      assert.equal(empties.body.error, 'request body: more than 1000 YAML documents (empty ones count); the limit is 1000; nothing was applied');
      console.log(`# a million empty documents, chunked and under 1 MiB: refused in ${Date.now() - started} ms`);

      // One document the parser takes tens of seconds over (its duplicate key
      // check is quadratic), and one it needs gigabytes for: both within 1 MiB.
      const bombs = [
        `spec:\n${Array.from({ length: 50_000 }, (_, i) => `  k${i}: v\n`).join('')}`,
        `[${'{},'.repeat(MiB / 3 - 2)}`,
      ];
      for (const bomb of bombs) {
        const t = Date.now();
        // Past cp.api's 10 s deadline: the parse may take all of its 10 s.
        const refused = await rawRequest(leader.httpPort, 'POST', '/v1/apply', { chunked: Buffer.from(bomb) });
        assert.equal(refused.status, 413, refused.text);
        const { error } = JSON.parse(refused.text);
        assert.match(error, /^the request body (took over 10 s to parse|needs over 128 MB to parse) \(the limit\); nothing was applied$/);
        console.log(`# ${(bomb.length / 1024).toFixed(0)} KiB bomb: ${error} after ${Date.now() - t} ms`);
      }
    } finally {
      clearInterval(sampler);
      watched = await watch.stop();
    }
    const { lapses, slowestMs, polls } = watched;
    console.log(`# leadership: ${polls} polls of both replicas, slowest /healthz ${slowestMs} ms, lapses: ${lapses.length}`);
    assert.deepEqual(lapses, [], `${leader.name} stopped leading or ${other.name} took over:\n${cp.logs()}`);
    assert.doesNotMatch(fs.readFileSync(leader.logFile, 'utf8'), /leader campaign failed/);

    // Generous: the reported failure kept 1.07 GB more after one request.
    const after = await waitFor('the leader\'s memory to come back', () => {
      const now = rssMb(pid);
      return now <= before + 100 && now;
    }, 30_000, 500).catch(() => rssMb(pid));
    console.log(`# leader RSS: ${before} MB before, ${peak} MB at most during, ${after} MB after`);
    assert.ok(after <= before + 100, `RSS ${after} MB after, ${before} MB before`);

    // Still leading and serving.
    assert.equal((await leader.health()).leader, true);
    const get = await cp.api('GET', '/v1/resources/services/bulk-0', undefined, ADMIN_TOKEN, leader);
    assert.equal(get.status, 200);
  });

  it('applies a body at the limits: 128 resources in 1000 YAML documents', async () => {
    const docs = Array.from({ length: 1000 }, (_, i) => (i < 128 ? serviceYaml(i + 1) : '# nothing\n'));
    const applied = await cp.api('POST', '/v1/apply', docs.join('---\n'), ADMIN_TOKEN, leader);
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    assert.equal(applied.body.results.length, 128);
    const list = await cp.api('GET', '/v1/resources/services', undefined, ADMIN_TOKEN, leader);
    assert.equal(list.body.items.filter((s: any) => s.metadata.name.startsWith('bulk-')).length, 129);
  });

  it('refuses one document or one resource over the limits, naming them, and applies nothing', async () => {
    const fresh = (i: number) => serviceYaml(1000 + i);
    // 1001 documents, 5 of them resources.
    const docs = Array.from({ length: 1001 }, (_, i) => (i < 5 ? fresh(i) : '# nothing\n'));
    const tooManyDocs = await cp.api('POST', '/v1/apply', docs.join('---\n'), ADMIN_TOKEN, leader);
    assert.equal(tooManyDocs.status, 413, JSON.stringify(tooManyDocs.body));
    assert.match(tooManyDocs.body.error, /the limit is 1000; nothing was applied$/);
    // 129 resources, in YAML and as a JSON array.
    const yaml = Array.from({ length: 129 }, (_, i) => fresh(i)).join('---\n');
    const json = Array.from({ length: 129 }, (_, i) => ({ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: `bulk-${1000 + i}` }, spec: { hosts: ['x.example.com'] } }));
    for (const body of [yaml, json]) {
      const refused = await cp.api('POST', '/v1/apply', body, ADMIN_TOKEN, leader);
      assert.equal(refused.status, 413, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'request body: more than 128 resources (documents and list items); the limit is 128; nothing was applied');
    }
    assert.equal((await cp.api('GET', '/v1/resources/services/bulk-1000', undefined, ADMIN_TOKEN, leader)).status, 404);
  });

  it('answers a malformed URL on every route with a short 400, logs no stack, and keeps serving', async () => {
    const logBefore = fs.statSync(leader.logFile).size;
    const cases: Array<[string, string]> = [
      ['GET', `/v1/resources/services/${BAD}`],
      ['GET', `/v1/resources/${BAD}`],
      ['GET', `/v1/resources/${BAD}/echo`],
      ['DELETE', `/v1/resources/services/${BAD}`],
      ['POST', `/v1/apply/${BAD}`],
      ['GET', `/v1/tokens/${BAD}`],
      ['DELETE', `/v1/tokens/${BAD}`],
      ['GET', `/v1/instance-tokens/${BAD}`],
      ['DELETE', `/v1/instance-tokens/${BAD}`],
      ['DELETE', `/v1/zone-sessions/${BAD}`],
      ['GET', `/v1/ca/${BAD}`],
      ['DELETE', `/v1/ca/roots/${BAD}`],
      ['GET', `/v1/regions/${BAD}`],
      ['GET', `/v1/status${BAD}`],
      ['GET', `/${BAD}`],
      ['GET', `/dashboard/${BAD}`],
      ['GET', `/healthz/${BAD}`],
      // Not a path at all.
      ['GET', 'http://other.example/v1/regions'],
    ];
    for (const [method, target] of cases) {
      const res = await rawRequest(leader.httpPort, method, target);
      assert.equal(res.status, 400, `${method} ${target}: ${res.text}`);
      const body = JSON.parse(res.text);
      assert.ok(body.error.length < 200, body.error);
      assert.doesNotMatch(res.text, /\n\s+at |URIError|TypeError/, `${method} ${target}: ${res.text}`);
    }
    // Well-formed but no such thing: the route's own 400 or 404, not a 500.
    assert.equal((await rawRequest(leader.httpPort, 'GET', '//[')).status, 404);
    assert.equal((await cp.api('DELETE', '/v1/instance-tokens/not-an-id', undefined, ADMIN_TOKEN, leader)).status, 400);
    assert.equal((await cp.api('DELETE', '/v1/tokens/not-hex', undefined, ADMIN_TOKEN, leader)).status, 400);
    assert.equal((await cp.api('DELETE', '/v1/zone-sessions/%20fra', undefined, ADMIN_TOKEN, leader)).status, 400);
    assert.equal((await cp.api('GET', '/v1/resources/services/%E2%82%AC', undefined, ADMIN_TOKEN, leader)).status, 404);

    // A WebSocket upgrade to such a target is refused the same way.
    const upgrade = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(leader.httpPort, '127.0.0.1', () =>
        socket.write('GET //[ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'),
      );
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (text += c));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(10_000, () => socket.destroy(new Error('no answer to the upgrade in 10 s')));
    });
    assert.match(upgrade, /^HTTP\/1\.1 (400|404) /, upgrade);
    assert.ok(leader.running, `${leader.name} exited:\n${leader.tail()}`);

    const log = fs.readFileSync(leader.logFile, 'utf8').slice(logBefore);
    assert.doesNotMatch(log, /\n\s+at |"stack"|admin request failed/, log);
    assert.equal((await leader.health()).leader, true);
    assert.equal((await cp.api('GET', '/v1/resources/services/bulk-0', undefined, ADMIN_TOKEN, leader)).status, 200);
  });
});
