// A zone filled to its registry's default caps, with real processes: etcd,
// the global controller, one zone controller and one edge in discovery mode.
// Registers 10 services x 1,000 instances (the default per-zone and
// per-service caps), each with 32 labels of 4,096 bytes together (the label
// caps), then reports the zone's and the edge's RSS (VmRSS) before and after,
// the zone's instance file and journal, and the messages the edge took.
// Only the request rate is raised (--registry-rate), so the filling takes
// seconds: the rate bounds how fast, not how much.
//
//   node dist/bench/registry-caps/main.js [--services 10] [--per-service 1000] [--settle 15]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ControlPlane } from '../../integration/harness/global-controller-process';
import { ZoneProcess } from '../../integration/harness/zone-process';
import { PartProcess, waitFor } from '../../integration/harness/child-process';
import { freePort } from '../../lib/process/free-port';
import { parseDocuments } from '../../lib/resources';
import { repoRoot } from '../../test-support/repo-root';
import { numberOption } from '../bench-cli';

function option(name: string, fallback: number, max: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : numberOption(process.argv[i + 1], name, 1, max);
}

function rssMb(pid: number | undefined): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m![1]) / 1024);
}

const fileMb = (f: string) => (fs.existsSync(f) ? Math.round((fs.statSync(f).size / 1024 / 1024) * 10) / 10 : 0);

function labels(i: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: 32 }, (_, k) => [`label-${String(k).padStart(2, '0')}`, `${i}.`.padEnd(120, 'x')]));
}

async function main(): Promise<void> {
  const services = option('services', 10, 100);
  const perService = option('per-service', 1000, 1000);
  const settleS = option('settle', 15, 600);
  const cp = new ControlPlane();
  let zone: ZoneProcess | undefined;
  let edge: PartProcess | undefined;
  try {
    await cp.start(1);
    const regions = parseDocuments(fs.readFileSync(path.join(repoRoot(), 'examples', 'regions.yaml'), 'utf8'), 'regions.yaml');
    const names = Array.from({ length: services }, (_, s) => `cap-${s}`);
    // Checked once a minute: nothing listens, so they stay unhealthy; the edge holds them all the same.
    const docs = names.map((name) => ({ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name }, spec: { healthCheck: { type: 'tcp', interval: '60s', timeout: '1s' } } }));
    const applied = await cp.api('POST', '/v1/apply', [...regions, ...docs]);
    if (applied.status !== 200) throw new Error(`apply: ${applied.status} ${JSON.stringify(applied.body)}`);
    zone = await ZoneProcess.create('fra', cp.primary.grpcPort, await cp.token('fra'), cp.dir, ['--registry-rate', '100000', '--registry-burst', '100000']);
    zone.instanceToken = (await cp.instanceToken('fra', '*')).token;
    zone.start();
    await zone.waitUp(true);
    const admin = `127.0.0.1:${await freePort()}`;
    edge = new PartProcess('edge-fra', ['edge', '--mode', 'edge', '--region', 'fra', '--zone', zone.discoveryAddress, '--name', 'edge-fra', '--http', `127.0.0.1:${await freePort()}`, '--admin', admin, '--access-log-sample', '0'], cp.dir);
    edge.start();
    const edgeSource = async () => ((await (await fetch(`http://${admin}/v1/view`, { signal: AbortSignal.timeout(30_000) })).json()) as { source: { messages: number; connected: boolean } }).source;
    await waitFor('the edge connected', async () => (await edgeSource().catch(() => undefined))?.connected, 60_000, 500);
    await new Promise((r) => setTimeout(r, settleS * 1000));
    const before = { zone: rssMb(zone.pid), edge: rssMb(edge.pid) };

    const started = Date.now();
    const jobs = names.flatMap((service) => Array.from({ length: perService }, (_, i) => ({ id: `${service}-${i}`, service, address: '127.0.0.1', port: 10_000 + i, labels: labels(i) })));
    let next = 0;
    let refused = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < jobs.length) {
        const r = await zone!.register(jobs[next++]!);
        if (r.status !== 201) refused++;
      }
    }));
    const fillS = Math.round((Date.now() - started) / 100) / 10;
    const over = await zone.register({ service: names[0]!, address: '127.0.0.1', port: 9999 });
    await new Promise((r) => setTimeout(r, settleS * 1000));
    const after = { zone: rssMb(zone.pid), edge: rssMb(edge.pid) };
    const source = await edgeSource();
    const state = path.join(zone.stateDir, 'instances.json');
    const lines = [
      `instances: ${jobs.length - refused} registered (${refused} refused) in ${fillS} s; one more: ${over.status} ${over.body.cap ?? ''}`,
      `zone RSS: ${before.zone} MB -> ${after.zone} MB`,
      `edge RSS: ${before.edge} MB -> ${after.edge} MB (discovery messages taken: ${source.messages}, connected: ${source.connected})`,
      `zone instance file: ${fileMb(state)} MB, journal: ${fileMb(`${state}.journal`)} MB`,
      `edge log mentions RESOURCE_EXHAUSTED: ${/RESOURCE_EXHAUSTED/.test(edge.tail(100_000))}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await edge?.stop();
    await zone?.stop();
    await cp.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
