// One failure under a steady request stream: the eu client asks a service at
// the anycast address every few milliseconds on a fresh connection (the
// lab's MeshProber, bounded in time and so in count); the failure is
// inflicted, the stream is watched until traffic has moved (if anything has
// to move), the failure is healed, and the stream is watched until traffic is
// back where it was. Failed requests are counted over the whole run; every
// request is a GET, so every one is idempotent.
import type { Lab } from '../../netns-tests/lab';
import { MeshProber, type MeshProbe } from '../../netns-tests/lab/mesh-prober';
import type { FailureName } from './options';

export interface FailureSpec {
  name: FailureName;
  what: string;
  host: string;
  // Where traffic goes before the failure and after the return.
  steady: (r: MeshProbe) => boolean;
  // Where traffic goes once rerouted; none when nothing has to move (the
  // control plane going away must not move traffic).
  moved?: (r: MeshProbe) => boolean;
  movedTo?: string;
  inflict: () => Promise<void>;
  // Resolves when the broken part is back (process up, rule removed).
  heal: () => Promise<void>;
  // When traffic never left, what "back" means: resolves when the control
  // plane is whole again (every zone online, writes accepted).
  whole?: () => Promise<void>;
  wholeMeans?: string;
}

export interface FailureResult {
  name: FailureName;
  what: string;
  host: string;
  requests: number;
  failed: number;
  failures: string[];
  // Failure inflicted -> first answer from where traffic moved to.
  rerouteMs: number | null;
  movedTo: string | null;
  // Answers that still came from the old place after the failure, before the move.
  staleAnswers: number;
  // How long healing took (process start, rule removal).
  healMs: number;
  // Healed -> first answer from the old place again (or the control plane whole again).
  returnMs: number | null;
  returnMeans: string;
  notes: string[];
  error?: string;
}

export interface RunContext {
  lab: Lab;
  url: string;
  intervalMs: number;
  holdMs: number;
  outageMs: number;
  progress: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The stream's bound: no failure run takes longer.
const STREAM_MS = 150_000;

function describe(r: MeshProbe): string {
  return `${new Date(r.t).toISOString().slice(11, 23)} ${r.status ?? ''} ${r.error ?? ''}`.replace(/\s+/g, ' ').trim();
}

export async function runFailure(ctx: RunContext, spec: FailureSpec): Promise<FailureResult> {
  const prober = await MeshProber.start(ctx.lab, 'eu-client', ctx.url, { host: spec.host, intervalMs: ctx.intervalMs, timeoutMs: 2000, durationMs: STREAM_MS });
  const result: FailureResult = {
    name: spec.name, what: spec.what, host: spec.host, requests: 0, failed: 0, failures: [], rerouteMs: null, movedTo: spec.movedTo ?? null,
    staleAnswers: 0, healMs: 0, returnMs: null, returnMeans: spec.whole ? (spec.wholeMeans ?? 'control plane whole') : 'first answer from the original place', notes: [],
  };
  let start = 0;
  let healed = false;
  try {
    await prober.waitFor(spec.steady, 10_000);
    start = prober.results.length;
    const t0 = Date.now();
    ctx.progress('inflicted');
    await spec.inflict();
    if (spec.moved) {
      const hit = await prober.waitFor((r) => spec.moved!(r) && r.t >= t0, 30_000, start);
      result.rerouteMs = hit.t + hit.ms - t0;
      result.staleAnswers = prober.results.slice(start).filter((r) => r.t >= t0 && r.t < hit.t && r.ok && spec.steady(r)).length;
      ctx.progress(`rerouted after ${result.rerouteMs} ms`);
      await sleep(ctx.holdMs);
    } else {
      // The outage lasts its time; traffic must stay where it is.
      await sleep(ctx.outageMs);
      const away = prober.results.slice(start).filter((r) => r.t >= t0);
      const moved = away.filter((r) => r.ok && !spec.steady(r));
      if (moved.length) result.notes.push(`${moved.length} answers came from elsewhere during the outage`);
    }
    const h0 = Date.now();
    await spec.heal();
    healed = true;
    const h1 = Date.now();
    result.healMs = h1 - h0;
    ctx.progress(`healed in ${result.healMs} ms`);
    if (spec.whole) {
      await spec.whole();
      result.returnMs = Date.now() - h1;
    } else {
      const back = await prober.waitFor((r) => spec.steady(r) && r.t >= h1, 30_000, prober.results.length);
      result.returnMs = back.t + back.ms - h1;
    }
    ctx.progress(`back after ${result.returnMs} ms`);
    await sleep(ctx.holdMs);
  } catch (err) {
    result.error = (err as Error).message;
    if (!healed) await spec.heal().catch((e) => result.notes.push(`healing after the error failed: ${(e as Error).message}`));
  } finally {
    await prober.stop();
  }
  const during = prober.results.slice(start);
  const failed = during.filter((r) => !r.ok);
  result.requests = during.length;
  result.failed = failed.length;
  result.failures = failed.slice(0, 10).map(describe);
  return result;
}
