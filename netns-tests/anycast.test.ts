// (b) every continent's client reaches the anycast address in its own
// continent's region; (c) when fra withdraws the anycast route the eu client
// reaches iad, and fra again once it announces; and with BFD, an edge whose
// BIRD freezes is routed around in well under a second.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { CONTINENTS, REGIONS, Lab } from './lab';
import { describeMove, measureMove } from './lab/failover-probe';
import { httpGet, startNameServer, startProber, type Prober } from './lab/services';

describe('anycast in the lab (BFD on the edge sessions)', () => {
  let lab: Lab;
  let url: string;

  before(async () => {
    lab = await Lab.create({ wireguard: false, bfd: true });
    url = `http://${lab.addresses.anycast}/`;
    for (const r of REGIONS) await startNameServer(lab, r, lab.addresses.anycast);
  });

  after(async () => {
    await lab?.teardown();
  });

  test('(b) each continent client reaches the anycast address in its own region', async () => {
    const expected = { eu: 'fra', us: 'iad', ap: 'sin' };
    for (const c of CONTINENTS) {
      for (let i = 0; i < 3; i++) assert.equal(await httpGet(lab, `${c}-client`, url), expected[c], `${c}-client, try ${i}`);
    }
  });

  describe('(c) withdraw and announce', () => {
    let prober: Prober;

    before(async () => {
      prober = await startProber(lab, 'eu-client', url, { intervalMs: 10, timeoutMs: 300, durationMs: 90_000 });
    });

    after(async () => {
      await prober?.process.stop();
    });

    test('fra withdraws: the eu client reaches iad; fra announces again: back to fra', async (t) => {
      let configureMs = 0;
      const away = await measureMove(prober, 'fra', 'iad', async () => {
        const s = Date.now();
        await lab.announcer('fra').announce(false);
        configureMs = Date.now() - s;
      }, 10_000);
      t.diagnostic(`withdraw (birdc configure took ${configureMs} ms): eu client on iad after ${describeMove(away)}`);
      assert.equal(lab.announcer('fra').announcing, false);
      // The other continents do not notice.
      assert.equal(await httpGet(lab, 'us-client', url), 'iad');
      assert.equal(await httpGet(lab, 'ap-client', url), 'sin');

      const back = await measureMove(prober, 'iad', 'fra', () => lab.announcer('fra').announce(true), 10_000);
      t.diagnostic(`announce: eu client back on fra after ${describeMove(back)}`);
      assert.ok(away.gapMs < 5000 && back.gapMs < 5000, 'moves within 5 s');
    });

    test('fra BIRD frozen (SIGSTOP): BFD routes eu to iad; resumed: back to fra', async (t) => {
      const bird = lab.birdProcess('fra');
      try {
        const away = await measureMove(prober, 'fra', 'iad', async () => process.kill(bird.pid!, 'SIGSTOP'), 10_000);
        t.diagnostic(`fra BIRD frozen: eu client on iad after ${describeMove(away)} (BFD 3 x 100 ms)`);
        assert.ok(away.gapMs < 2000, `BFD failover in under 2 s, took ${away.gapMs} ms`);
        const back = await measureMove(prober, 'iad', 'fra', async () => process.kill(bird.pid!, 'SIGCONT'), 15_000);
        t.diagnostic(`fra BIRD resumed: eu client back on fra after ${describeMove(back)} (session restart)`);
      } finally {
        if (bird.running) process.kill(bird.pid!, 'SIGCONT');
      }
    });
  });
});
