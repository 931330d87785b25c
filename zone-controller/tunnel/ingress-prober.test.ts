// The tunnel prober's verdicts: down after a few misses in a row, up again
// only after a few answers in a row (hysteresis), probes that do not wait for
// each other, the newest answer winning over a late older one, and round
// trips reported at most once a second (verdicts at once). Real
// sockets on 127.0.0.1 where the network matters; a scripted probe for the
// ordering.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { probeTcpConnect, type TcpProbeResult } from '../../lib/net/tcp-connect-probe';
import { IngressProber } from './ingress-prober';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function listen(port = 0): Promise<net.Server> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('IngressProber', () => {
  it('goes down after 3 misses in a row and back up only after 3 answers in a row', async () => {
    let server = await listen();
    const port = (server.address() as net.AddressInfo).port;
    // Every result in the order taken, and the verdict at each change.
    const results: boolean[] = [];
    const verdicts: { up: boolean; trailing: number; at: number }[] = [];
    const trailing = (v: boolean) => {
      let n = 0;
      for (let i = results.length - 1; i >= 0 && results[i] === v; i--) n++;
      return n;
    };
    const prober: IngressProber = new IngressProber(
      () => [{ region: 'iad', address: `127.0.0.1:${port}` }],
      () => {
        const up = prober.get('iad')!.up;
        if (verdicts.at(-1)?.up !== up) verdicts.push({ up, trailing: trailing(up), at: performance.now() });
      },
      { intervalMs: 40, downAfterMisses: 3, upAfterSuccesses: 3 },
      async (address, timeoutMs) => {
        const r = await probeTcpConnect(address, timeoutMs);
        results.push(r.up);
        return r;
      },
    );
    prober.start();
    try {
      await until('up', () => verdicts.at(-1)?.up === true);
      assert.equal(verdicts[0]!.trailing, 1, 'the first answer says up at once');
      const closedAt = performance.now();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await until('down', () => verdicts.at(-1)?.up === false);
      const down = verdicts.at(-1)!;
      assert.equal(down.trailing, 3, `down on the third miss in a row (results ${results.join(',')})`);
      const openedAt = performance.now();
      server = await listen(port);
      await until('up again', () => verdicts.at(-1)?.up === true);
      const up = verdicts.at(-1)!;
      assert.equal(up.trailing, 3, `up again on the third answer in a row (results ${results.join(',')})`);
      console.log(`# probes every 40 ms: down ${Math.round(down.at - closedAt)} ms after the listener closed, up ${Math.round(up.at - openedAt)} ms after it listened again`);
    } finally {
      prober.stop();
      server.close();
    }
  });

  // A prober whose probes answer when the test says (rounds by hand, one
  // miss or answer decides).
  function scripted() {
    const pending: ((r: TcpProbeResult) => void)[] = [];
    const counts = { changes: 0 };
    const prober = new IngressProber(
      () => [{ region: 'iad', address: '127.0.0.1:1' }],
      () => counts.changes++,
      { intervalMs: 3_600_000, downAfterMisses: 1, upAfterSuccesses: 1 },
      () => new Promise<TcpProbeResult>((resolve) => pending.push(resolve)),
    );
    const round = () => (prober as unknown as { round(): void }).round();
    // A new probe, answered at once.
    const answer = async (r: TcpProbeResult) => {
      round();
      pending.at(-1)!(r);
      await sleep(0);
    };
    prober.start();
    return { prober, pending, counts, round, answer };
  }

  it('takes the newest probe: an older one answering late changes nothing', async () => {
    const { prober, pending, counts, round } = scripted();
    try {
      round();
      assert.equal(pending.length, 2, 'a second probe starts while the first waits');
      pending[1]!({ up: true, rttMs: 3 });
      await sleep(0);
      assert.deepEqual(prober.get('iad'), { up: true, rttMs: 3 });
      pending[0]!({ up: false, rttMs: 0 });
      await sleep(0);
      assert.deepEqual(prober.get('iad'), { up: true, rttMs: 3 }, 'the late miss of the older probe is ignored');
      assert.equal(counts.changes, 1);
    } finally {
      prober.stop();
    }
  });

  it('reports a drifting round trip at most once a second, a verdict at once', async () => {
    const { prober, pending, counts, answer } = scripted();
    try {
      pending[0]!({ up: true, rttMs: 2 });
      await sleep(0);
      assert.equal(counts.changes, 1, 'the first answer');
      for (const rttMs of [40, 80, 160, 5, 200]) await answer({ up: true, rttMs });
      assert.equal(counts.changes, 1, 'round trips within the second after a report are not reported');
      await answer({ up: false, rttMs: 0 });
      assert.equal(counts.changes, 2, 'down at once');
      await answer({ up: true, rttMs: 3 });
      assert.equal(counts.changes, 3, 'up at once (upAfterSuccesses 1)');
      await answer({ up: true, rttMs: 300 });
      assert.equal(counts.changes, 3);
    } finally {
      prober.stop();
    }
  });
});
