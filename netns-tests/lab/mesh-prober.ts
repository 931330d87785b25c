// A client of the mesh inside a namespace: asks one URL (with a Host header,
// e.g. echo.mesh at the anycast address) every few milliseconds, one request
// at a time on a fresh connection (so a route change is seen at once), for a
// bounded time, and reports each answer: which edge took it
// (x-meridian-edge), which region served it (x-meridian-region), and the
// x-forwarded-for the instance saw (the gateways the request passed).
import type { Lab } from './lab';
import type { LabNode } from './address-plan';
import type { LabProcess } from './lab-process';
import { waitForResult } from './wait-for-result';

const PROBER = `
const [url, host, intervalMs, timeoutMs, durationMs] = process.argv.slice(1).map((v, i) => (i > 1 ? Number(v) : v));
const http = require('http');
const end = Date.now() + durationMs;
let stop = false;
process.on('SIGTERM', () => (stop = true));
function once() {
  return new Promise((resolve) => {
    const t = Date.now();
    const req = http.get(url, { agent: false, timeout: timeoutMs, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let via;
        try { via = JSON.parse(body).headers['x-forwarded-for']; } catch {}
        resolve({ t, ms: Date.now() - t, ok: res.statusCode === 200, status: res.statusCode, edge: res.headers['x-meridian-edge'], region: res.headers['x-meridian-region'], via, error: res.statusCode === 200 ? undefined : body.slice(0, 200) });
      });
      res.on('error', (e) => resolve({ t, ms: Date.now() - t, ok: false, error: e.code || e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ t, ms: Date.now() - t, ok: false, error: e.code || e.message }));
  });
}
(async () => {
  console.log(JSON.stringify({ started: Date.now() }));
  while (!stop && Date.now() < end) {
    const r = await once();
    console.log(JSON.stringify(r));
    const wait = intervalMs - (Date.now() - r.t);
    if (wait > 0) await new Promise((ok) => setTimeout(ok, wait));
  }
  process.exit(0);
})();
`;

export interface MeshProbe {
  t: number;
  ms: number;
  ok: boolean;
  status?: number;
  edge?: string;
  region?: string;
  via?: string;
  error?: string;
}

export interface MeshProberOptions {
  host: string;
  intervalMs?: number;
  timeoutMs?: number;
  durationMs?: number;
}

export class MeshProber {
  readonly results: MeshProbe[] = [];

  private constructor(
    readonly node: LabNode,
    readonly process: LabProcess,
  ) {
    process.onLine((line, stream) => {
      if (stream !== 'stdout' || !line.startsWith('{')) return;
      const r = JSON.parse(line) as MeshProbe | { started: number };
      if ('t' in r) this.results.push(r);
    });
  }

  static async start(lab: Lab, node: LabNode, url: string, o: MeshProberOptions): Promise<MeshProber> {
    const args = [url, o.host, String(o.intervalMs ?? 20), String(o.timeoutMs ?? 2000), String(o.durationMs ?? 60_000)];
    const p = lab.spawn(node, process.execPath, ['-e', PROBER, ...args], { name: `${node}-prober-${o.host}-${Date.now() % 100000}` });
    await p.waitForLine(/"started"/);
    return new MeshProber(node, p);
  }

  // The first result from index `from` on that satisfies pred.
  async waitFor(pred: (r: MeshProbe) => boolean, timeoutMs: number, from = 0): Promise<MeshProbe> {
    return waitForResult(this.results, this.process, pred, timeoutMs, from, (last) => `prober on ${this.node}: ${this.describe(last)}`);
  }


  // Waits until `n` more results came in.
  async more(n: number, timeoutMs = 10_000): Promise<MeshProbe[]> {
    const start = this.results.length;
    await this.waitFor(() => this.results.length >= start + n, timeoutMs, start);
    return this.results.slice(start, start + n);
  }

  describe(rs: MeshProbe[]): string {
    return rs.map((r) => (r.ok ? `${r.edge}/${r.region}` : `${r.status ?? ''} ${r.error ?? ''}`.trim())).join(', ');
  }

  async stop(): Promise<void> {
    await this.process.stop('SIGTERM', 3000);
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
