// The soak's flat-or-not rule on made-up series, and the sampler and the
// process names on this very process.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { judge, longLived, slopePerSecond } from './verdict';
import { ResourceSampler } from './resource-sampler';
import { descendants, partName } from './process-tree';
import type { ResourceSeries } from './resource-sampler';

// A 30-minute series every 10 s: rss(s) and fds(s).
function series(rss: (s: number) => number, fds: (s: number) => number, name = 'p', from = 0, to = 1800): ResourceSeries {
  const points = [];
  for (let s = from; s <= to; s += 10) points.push({ s, rssMb: rss(s), fds: fds(s) });
  return { name, pid: 1, points };
}

test('slope of a straight line', () => {
  assert.equal(slopePerSecond([{ x: 0, y: 1 }, { x: 10, y: 3 }, { x: 20, y: 5 }]), 0.2);
  assert.equal(slopePerSecond([{ x: 0, y: 1 }]), 0);
});

test('a process that grew early and then held, with GC noise, is flat', () => {
  const v = judge(series((s) => (s < 600 ? 80 + s / 20 : 110) + (s % 30 === 0 ? 3 : -3), () => 40), 1800);
  assert.equal(v.flat, true, v.why.join('; '));
  assert.ok(Math.abs(v.rssSlopeMbPer10Min) < 1, `slope ${v.rssSlopeMbPer10Min}`);
  assert.deepEqual(v.rssMb, { start: 83, end: 113, max: 113 });
});

test('memory that keeps growing 1 MB a minute is not flat', () => {
  const v = judge(series((s) => 100 + s / 60, () => 40), 1800);
  assert.equal(v.flat, false);
  assert.match(v.why[0]!, /RSS grows 10 MB\/10 min/);
});

test('growth under the share of a large process is flat: 5 % of 400 MB is 20 MB/10 min', () => {
  assert.equal(judge(series((s) => 400 + s / 60, () => 40), 1800).flat, true);
});

test('file descriptors that leak are not flat; back to baseline within the margin is', () => {
  const leak = judge(series(() => 100, (s) => 40 + Math.floor(s / 60)), 1800);
  assert.equal(leak.flat, false);
  assert.match(leak.why.join(), /fds at the end, baseline/);
  assert.equal(judge(series(() => 100, (s) => (s > 900 && s < 1200 ? 90 : 45)), 1800).flat, true);
});

test('a short run is judged on its second half', () => {
  const v = judge(series((s) => (s < 30 ? 50 + s : 80), () => 20, 'p', 0, 60), 60);
  assert.equal(v.flat, true, v.why.join('; '));
});

test('only processes that span the whole soak are judged', () => {
  const whole = series(() => 1, () => 1, 'whole');
  const restarted = series(() => 1, () => 1, 'echo', 600, 1800);
  const gone = series(() => 1, () => 1, 'old-echo', 0, 590);
  assert.deepEqual(longLived([whole, restarted, gone], 0, 1800, 10).map((s) => s.name), ['whole']);
});

test('names of the parts from their command lines', () => {
  const bin = '/work/main/bin/meridian';
  assert.equal(partName(['node', bin, 'edge', '--mode', 'edge', '--region', 'fra', '--name', 'edge-fra']), 'edge-fra');
  assert.equal(partName(['node', bin, 'edge', '--mode', 'ingress', '--region', 'iad']), 'ingress-iad');
  assert.equal(partName(['node', bin, 'zone-controller', '--region', 'sin']), 'zone-sin');
  assert.equal(partName(['node', bin, 'echo-server', '--instance', 'echo-fra-1']), 'echo-fra-1');
  assert.equal(partName(['node', bin, 'global-controller', '--etcd', 'x']), 'global-controller');
  assert.equal(partName(['/usr/local/bin/etcd', '--name', 'demo']), 'etcd');
});

test('the sampler reads RSS and fds of a real child process', async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(descendants(process.pid).includes(child.pid!), 'the child is a descendant');
    const sampler = new ResourceSampler(() => [{ name: 'child', pid: child.pid! }]);
    sampler.sample();
    sampler.sample();
    const s = [...sampler.series.values()];
    assert.equal(s.length, 1);
    assert.equal(s[0]!.points.length, 2);
    const p = s[0]!.points[0]!;
    assert.ok(p.rssMb > 5 && p.rssMb < 500, `rss ${p.rssMb}`);
    assert.ok(p.fds >= 3 && p.fds < 200, `fds ${p.fds}`);
  } finally {
    child.kill('SIGKILL');
  }
});
