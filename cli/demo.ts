// `meridian demo`: the whole mesh on loopback with fixed ports, until Ctrl-C.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { demoLayout, layoutTable } from './demo/demo-layout';
import { DemoRunner, type DemoEndpoints } from './demo/demo-runner';

const USAGE = (table: string) => `usage: meridian demo [--json] [--data-dir DIR] [--port-offset N]

Runs etcd, the global controller and three regions (fra, iad, sin) on
127.0.0.1, each region with a zone controller, an edge, a zone ingress and two
instances of the echo service. Ctrl-C stops everything it started.

  --json           print one JSON object describing every endpoint once all is ready
  --data-dir DIR   keep state and logs here (default: a temporary directory, removed at exit)
  --port-offset N  add N to every port below

Ports:
${table}`;

function repoDir(...parts: string[]): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, ...parts))) return path.join(dir, ...parts);
    if (path.dirname(dir) === dir) throw new Error(`${parts.join('/')} not found`);
  }
}

// Edges and ingresses join once the edge is part of this build.
function edgeAvailable(): boolean {
  try {
    require.resolve('../edge/main');
    return true;
  } catch {
    return false;
  }
}

function describe(e: DemoEndpoints): string {
  const lines = [
    '',
    'Meridian demo is up.',
    `  admin API   ${e.admin.url}   token: ${e.admin.token}`,
    `  try:        MERIDIAN_SERVER=${e.admin.url} MERIDIAN_TOKEN=${e.admin.token} meridian get regions`,
  ];
  for (const [name, r] of Object.entries(e.regions)) {
    lines.push(`  ${name}  zone ${r.zoneController}  DNS ${r.dns}${r.edge ? `  edge http://${r.edge.http}` : ''}${r.ingress ? `  ingress ${r.ingress.address}` : ''}`);
  }
  const fra = e.regions.fra;
  if (fra?.edge) {
    const [meshHost, meshPort] = fra.edge.mesh.split(':');
    lines.push(
      `  curl -H 'Host: echo.mesh' http://${fra.edge.http}/`,
      '',
      `  A workload in fra: resolve echo.mesh with fra's zone DNS, call the answer (fra's mesh listener):`,
      `  dig @${fra.dns.split(':')[0]} -p ${fra.dns.split(':')[1]} echo.mesh +short`,
      `  curl -H 'Host: echo.mesh' http://${meshHost}${meshPort === '80' ? '' : `:${meshPort}`}/`,
    );
    if (fra.redis) {
      lines.push(
        `  A TCP service, redis (redis-server in fra and iad): the same name, the Service's port:`,
        `  dig @${fra.dns.split(':')[0]} -p ${fra.dns.split(':')[1]} redis.mesh +short`,
        `  redis-cli -h ${meshHost} -p 6379 PING      # kill fra's redis (pid ${fra.redis.pid}) and new connections go to iad`,
      );
    }
  }
  if (e.redisMissing) lines.push(`  (${e.redisMissing})`);
  if (fra) {
    // The token stays in its file (0600): the line names the file, not the token.
    const port = Math.max(...fra.instances.map((i) => i.port)) + 1;
    lines.push(
      '',
      `  Register another echo instance in fra (start it first: meridian echo-server --listen 127.0.0.1:${port} --service echo --region fra --instance echo-fra-3):`,
      `  meridian register --zone ${fra.zoneController} --token "$(cat ${fra.instanceTokenFile})" --service echo --address 127.0.0.1 --port ${port} --id echo-fra-3`,
      `  Without an instance token of the region for the service the zone refuses it (401, or 403 for another service or an address outside the Region's instanceNetworks).`,
    );
  }
  lines.push(`  logs in ${path.join(e.dataDir, 'logs')}`, '', 'Ctrl-C stops everything.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      'port-offset': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const offset = Number(values['port-offset']);
  if (!Number.isInteger(offset) || offset < 0 || offset > 50_000) throw new Error('--port-offset: must be an integer from 0 to 50000');
  const layout = demoLayout(offset);
  if (values.help) return void process.stdout.write(USAGE(layoutTable(layout)));

  const runner = new DemoRunner(layout, {
    dataDir: values['data-dir'],
    examplesDir: repoDir('examples'),
    withProxies: edgeAvailable(),
    progress: (step, total, message) => process.stderr.write(`[${step}/${total}] ${message}\n`),
  });
  let stopping: Promise<void> | undefined;
  const stop = (code: number) => {
    stopping ??= runner.stop().finally(() => process.exit(code));
    return stopping;
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    const endpoints = await runner.start();
    if (values.json) process.stdout.write(JSON.stringify(endpoints) + '\n');
    else process.stdout.write(describe(endpoints));
  } catch (err) {
    process.stderr.write(`error: the demo could not start: ${(err as Error).message}\n`);
    await stop(1);
  }
}
