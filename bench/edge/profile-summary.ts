// Where a V8 CPU profile (node --cpu-prof) spent its time: self time by
// function and by area (this repository's code, undici, prom-client, node's
// own modules, native code, the garbage collector), idle time left out.
import * as fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  areas: Share[];
  functions: Share[];
}

export function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)' || fn === '(root)') return 'V8/native (program)';
  if (url === '') return 'native (no script)';
  // undici's HTTP/1.1 parser (llhttp compiled to wasm).
  if (url.startsWith('wasm://')) return 'undici';
  if (url.includes('/node_modules/undici/')) return 'undici';
  if (url.includes('/node_modules/prom-client/')) return 'prom-client';
  if (url.includes('/node_modules/pino')) return 'pino';
  if (url.includes('/node_modules/')) return 'other packages';
  if (url.includes('/dist/edge/')) return 'meridian edge (dist/edge)';
  if (url.includes('/dist/')) return 'meridian other (dist)';
  if (url.startsWith('node:')) {
    const m = /^node:(?:internal\/)?([^/]+)/.exec(url);
    const mod = m?.[1] ?? url;
    if (mod.startsWith('_http') || mod === 'http') return 'node http (parser, server, client)';
    if (mod === 'streams' || mod === 'stream' || mod === 'net' || mod === 'stream_base_commons') return 'node net and streams';
    if (mod === 'process' || mod === 'timers' || mod === 'async_hooks') return 'node timers, ticks, async hooks';
    return `node other (${mod})`;
  }
  return 'other';
}

// skipMs: samples from the first skipMs of the profile (start-up, warm-up)
// are left out.
export function summarize(file: string, top = 25, skipMs = 0): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const self = new Map<number, number>();
  let elapsedUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    elapsedUs += dt;
    if (elapsedUs < skipMs * 1000) continue;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  let idle = 0;
  let busy = 0;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const area = areaOf(f.url, f.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = f.url === '' ? '' : ` ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    const key = `${f.functionName || '(anonymous)'}${where}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const shares = (m: Map<string, number>, n: number): Share[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), percent: Math.round((1000 * us) / busy) / 10 }));
  return { busyMs: Math.round(busy / 1000), idleMs: Math.round(idle / 1000), areas: shares(areas, 20), functions: shares(fns, top) };
}

// node dist/bench/edge/profile-summary.js FILE.cpuprofile [SKIP_MS]
if (require.main === module) {
  const s = summarize(process.argv[2], 25, Number(process.argv[3] ?? 0));
  console.log(`busy ${s.busyMs} ms, idle ${s.idleMs} ms`);
  for (const a of s.areas) console.log(`${a.percent.toFixed(1).padStart(5)}%  ${a.name}`);
  console.log('');
  for (const f of s.functions) console.log(`${f.percent.toFixed(1).padStart(5)}%  ${f.name}`);
}
