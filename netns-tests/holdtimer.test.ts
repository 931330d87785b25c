// Without BFD, an edge whose BIRD freezes is noticed by the BGP hold timer
// alone (3 s in the lab): the eu client moves to iad within it.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { REGIONS, Lab } from './lab';
import { describeMove, measureMove } from './lab/failover-probe';
import { startNameServer, startProber } from './lab/services';

describe('anycast failover on the hold timer (no BFD)', () => {
  let lab: Lab;

  before(async () => {
    lab = await Lab.create({ wireguard: false, bfd: false });
    for (const r of REGIONS) await startNameServer(lab, r, lab.addresses.anycast);
  });

  after(async () => {
    await lab?.teardown();
  });

  test('fra BIRD frozen: the eu router drops fra after the hold time', async (t) => {
    const prober = await startProber(lab, 'eu-client', `http://${lab.addresses.anycast}/`, { intervalMs: 10, timeoutMs: 300, durationMs: 60_000 });
    const bird = lab.birdProcess('fra');
    try {
      const away = await measureMove(prober, 'fra', 'iad', async () => process.kill(bird.pid!, 'SIGSTOP'), 10_000);
      t.diagnostic(`fra BIRD frozen: eu client on iad after ${describeMove(away)} (hold time 3 s)`);
      assert.ok(away.gapMs >= 1000 && away.gapMs < 6000, `hold-timer failover between 1 and 6 s, took ${away.gapMs} ms`);
      const back = await measureMove(prober, 'iad', 'fra', async () => process.kill(bird.pid!, 'SIGCONT'), 15_000);
      t.diagnostic(`fra BIRD resumed: eu client back on fra after ${describeMove(back)}`);
    } finally {
      if (bird.running) process.kill(bird.pid!, 'SIGCONT');
      await prober.process.stop();
    }
  });
});
