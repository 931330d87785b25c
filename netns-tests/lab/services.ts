// Small Node programs the tests run inside namespaces (`ip netns exec NS
// node -e ...`): a server that answers its region's name, a bounded prober
// that reports which region answered, and a TCP sink and sender. Each one
// stops by itself within a bounded time.
import type { Lab } from './lab';
import type { LabNode, Region } from './address-plan';
import type { LabProcess } from './lab-process';

const NAME_SERVER = `
const [address, port, body, lifetimeMs] = process.argv.slice(1);
const server = require('http').createServer((req, res) => { res.setHeader('connection', 'close'); res.end(body); });
server.listen(Number(port), address, () => console.log('listening ' + address + ':' + port));
setTimeout(() => process.exit(0), Number(lifetimeMs)).unref();
`;

// One request at a time, a fresh connection each (so that a route change is
// seen at once), every intervalMs, for at most durationMs.
const PROBER = `
const [url, intervalMs, timeoutMs, durationMs] = process.argv.slice(1).map((v, i) => (i ? Number(v) : v));
const http = require('http');
const end = Date.now() + durationMs;
function once() {
  return new Promise((resolve) => {
    const t = Date.now();
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ t, ms: Date.now() - t, ok: true, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ t, ms: Date.now() - t, ok: false, error: e.code || e.message }));
  });
}
(async () => {
  console.log(JSON.stringify({ started: Date.now() }));
  while (Date.now() < end) {
    const r = await once();
    console.log(JSON.stringify(r));
    const wait = intervalMs - (Date.now() - r.t);
    if (wait > 0) await new Promise((ok) => setTimeout(ok, wait));
  }
})();
`;

const TCP_SINK = `
const [address, port, lifetimeMs] = process.argv.slice(1);
const server = require('net').createServer((sock) => {
  let n = 0;
  sock.on('data', (d) => (n += d.length));
  sock.on('end', () => sock.end(String(n)));
  sock.on('error', () => {});
});
server.listen(Number(port), address, () => console.log('listening ' + address + ':' + port));
setTimeout(() => process.exit(0), Number(lifetimeMs)).unref();
`;

// Sends \`copies\` times the marker, prints how many bytes the sink counted.
const TCP_SEND = `
const [address, port, marker, copies] = process.argv.slice(1);
const sock = require('net').connect(Number(port), address, () => sock.end(Buffer.from(marker.repeat(Number(copies)))));
let reply = '';
sock.on('data', (d) => (reply += d));
sock.on('end', () => { console.log(reply); process.exit(0); });
sock.on('error', (e) => { console.error(e.message); process.exit(1); });
setTimeout(() => { console.error('timeout'); process.exit(2); }, 10000).unref();
`;

export interface ProbeResult {
  t: number;
  ms: number;
  ok: boolean;
  body?: string;
  error?: string;
}

export async function startNameServer(lab: Lab, region: Region, address: string, port = 80, lifetimeMs = 120_000): Promise<LabProcess> {
  const p = lab.spawn(region, process.execPath, ['-e', NAME_SERVER, address, String(port), region, String(lifetimeMs)], { name: `${region}-http-${port}` });
  await p.waitForLine(/^listening /);
  return p;
}

export interface Prober {
  process: LabProcess;
  results: ProbeResult[];
  // Resolves with the first result (from index `from` on) that satisfies `pred`.
  waitFor(pred: (r: ProbeResult) => boolean, timeoutMs: number, from?: number): Promise<ProbeResult>;
}

export async function startProber(lab: Lab, node: LabNode, url: string, { intervalMs = 10, timeoutMs = 300, durationMs = 60_000 } = {}): Promise<Prober> {
  const p = lab.spawn(node, process.execPath, ['-e', PROBER, url, String(intervalMs), String(timeoutMs), String(durationMs)], { name: `${node}-prober` });
  const results: ProbeResult[] = [];
  p.onLine((line, stream) => {
    if (stream !== 'stdout') return;
    const r = JSON.parse(line) as ProbeResult | { started: number };
    if ('t' in r) results.push(r);
  });
  await p.waitForLine(/"started"/);
  const waitFor = async (pred: (r: ProbeResult) => boolean, ms: number, from = 0): Promise<ProbeResult> => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const hit = results.slice(from).find(pred);
      if (hit) return hit;
      if (!p.running) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const tail = results.slice(-5).map((r) => (r.ok ? r.body : r.error)).join(', ');
    throw new Error(`prober on ${node}: condition not met in ${ms} ms (last: ${tail})`);
  };
  return { process: p, results, waitFor };
}

export async function startTcpSink(lab: Lab, node: LabNode, address: string, port: number, lifetimeMs = 60_000): Promise<LabProcess> {
  const p = lab.spawn(node, process.execPath, ['-e', TCP_SINK, address, String(port), String(lifetimeMs)], { name: `${node}-sink-${port}` });
  await p.waitForLine(/^listening /);
  return p;
}

// Returns the byte count the sink acknowledged.
export async function tcpSend(lab: Lab, node: LabNode, address: string, port: number, marker: string, copies: number): Promise<number> {
  const { stdout } = await lab.exec(node, process.execPath, ['-e', TCP_SEND, address, String(port), marker, String(copies)], { timeoutMs: 15_000 });
  return Number(stdout.trim());
}

const GET_ONCE = `
const req = require('http').get(process.argv[1], { agent: false, timeout: 3000 }, (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => { process.stdout.write(body); process.exit(0); });
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

// One GET from inside a namespace; the body.
export async function httpGet(lab: Lab, node: LabNode, url: string): Promise<string> {
  return (await lab.exec(node, process.execPath, ['-e', GET_ONCE, url], { timeoutMs: 10_000 })).stdout;
}
