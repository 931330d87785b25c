// HTTP from the test into a namespace without starting a process per
// request: one small node agent per namespace reads requests as JSON lines
// on stdin and answers each on stdout. The tests use it for the admin API,
// the zone controllers' and edges' health, and single client requests.
import type { Lab } from './lab';
import type { LabNode } from './address-plan';
import type { LabProcess } from './lab-process';

const AGENT = `
const http = require('http');
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (line) handle(JSON.parse(line));
  }
});
process.stdin.on('end', () => process.exit(0));
function handle(r) {
  const t = Date.now();
  const out = (o) => process.stdout.write(JSON.stringify({ id: r.id, ms: Date.now() - t, ...o }) + '\\n');
  const req = http.request(r.url, { method: r.method, headers: r.headers, agent: false, timeout: r.timeoutMs }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (body += c));
    res.on('end', () => out({ status: res.statusCode, headers: res.headers, body }));
    res.on('error', (e) => out({ error: e.code || e.message }));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => out({ error: e.code || e.message }));
  req.end(r.body);
}
`;

export interface NsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

export interface NsRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

export class NsHttp {
  private readonly waiting = new Map<number, (r: NsResponse | { error: string; ms: number }) => void>();
  private next = 0;

  private constructor(
    readonly node: LabNode,
    private readonly process: LabProcess,
  ) {
    process.onLine((line, stream) => {
      if (stream !== 'stdout' || !line) return;
      const r = JSON.parse(line) as { id: number } & (NsResponse | { error: string; ms: number });
      this.waiting.get(r.id)?.(r);
      this.waiting.delete(r.id);
    });
  }

  static start(lab: Lab, node: LabNode): NsHttp {
    const p = lab.spawn(node, process.execPath, ['-e', AGENT], { name: `${node}-http-agent`, stdin: true });
    return new NsHttp(node, p);
  }

  // Rejects on a transport error (refused, reset, timeout); any status resolves.
  request(url: string, r: NsRequest = {}): Promise<NsResponse> {
    if (!this.process.running) return Promise.reject(new Error(`${this.node}: http agent not running`));
    const id = ++this.next;
    const timeoutMs = r.timeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      const guard = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.node}: ${url}: no answer from the agent in ${timeoutMs + 2000} ms`));
      }, timeoutMs + 2000);
      this.waiting.set(id, (res) => {
        clearTimeout(guard);
        if ('error' in res) reject(new Error(`${this.node}: ${r.method ?? 'GET'} ${url}: ${res.error}`));
        else resolve(res);
      });
      this.process.write(`${JSON.stringify({ id, url, method: r.method ?? 'GET', headers: r.headers ?? {}, body: r.body, timeoutMs })}\n`);
    });
  }

  async json<T = any>(url: string, r: NsRequest = {}): Promise<T> {
    const res = await this.request(url, r);
    if (res.status >= 300) throw new Error(`${this.node}: ${url}: ${res.status} ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body) as T;
  }

  async close(): Promise<void> {
    this.process.endInput();
    await this.process.stop('SIGTERM', 1000);
  }
}
