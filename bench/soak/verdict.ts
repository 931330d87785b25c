// Whether a process's memory and file descriptors stayed flat over a soak.
// The rule (stated in the report):
// - memory: the least-squares slope of RSS over the last window (the last
//   10 minutes, or the second half of a shorter run) is below
//   max(RSS_SLOPE_MB, RSS_SLOPE_SHARE x mean RSS) per 10 minutes;
// - fds: the count at the end is at most the baseline + FD_MARGIN, the
//   baseline being the median count over the first window of the same length
//   after the warm-up.
// Only processes that lived through the whole soak are judged; restarted
// instances are counted, not judged.
import type { ResourcePoint, ResourceSeries } from './resource-sampler';

export const RSS_SLOPE_MB = 5;
export const RSS_SLOPE_SHARE = 0.05;
export const FD_MARGIN = 10;
export const WINDOW_S = 600;

export interface ProcessVerdict {
  name: string;
  pid: number;
  samples: number;
  rssMb: { start: number; end: number; max: number };
  // MB per 10 minutes over the last window.
  rssSlopeMbPer10Min: number;
  rssSlopeLimit: number;
  fds: { baseline: number; end: number; max: number };
  flat: boolean;
  why: string[];
}

export function slopePerSecond(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

// `durationS` is the soak's length: the window is the last WINDOW_S of it,
// or its second half when it is shorter than two windows.
export function judge(series: ResourceSeries, durationS: number): ProcessVerdict {
  const pts = series.points;
  const window = Math.min(WINDOW_S, durationS / 2);
  const end = pts[pts.length - 1]!.s;
  const last = pts.filter((p) => p.s >= end - window);
  const first: ResourcePoint[] = pts.filter((p) => p.s <= pts[0]!.s + window);
  const slope = slopePerSecond(last.map((p) => ({ x: p.s, y: p.rssMb }))) * 600;
  const meanRss = last.reduce((a, p) => a + p.rssMb, 0) / (last.length || 1);
  const limit = Math.max(RSS_SLOPE_MB, RSS_SLOPE_SHARE * meanRss);
  const baseline = median(first.map((p) => p.fds));
  const endFds = pts[pts.length - 1]!.fds;
  const why: string[] = [];
  if (slope >= limit) why.push(`RSS grows ${round(slope)} MB/10 min over the last ${Math.round(window / 6) / 10} min (limit ${round(limit)})`);
  if (endFds > baseline + FD_MARGIN) why.push(`${endFds} fds at the end, baseline ${baseline} (+${FD_MARGIN} allowed)`);
  return {
    name: series.name,
    pid: series.pid,
    samples: pts.length,
    rssMb: { start: pts[0]!.rssMb, end: pts[pts.length - 1]!.rssMb, max: Math.max(...pts.map((p) => p.rssMb)) },
    rssSlopeMbPer10Min: round(slope, 2),
    rssSlopeLimit: round(limit),
    fds: { baseline, end: endFds, max: Math.max(...pts.map((p) => p.fds)) },
    flat: why.length === 0,
    why,
  };
}

// Series that cover the soak from its first sample to its last (within one
// sampling interval at each end): the long-lived processes.
export function longLived(all: ResourceSeries[], firstS: number, lastS: number, intervalS: number): ResourceSeries[] {
  return all.filter((s) => s.points.length >= 2 && s.points[0]!.s <= firstS + intervalS && s.points[s.points.length - 1]!.s >= lastS - intervalS);
}
