// When the real edge applied each discovery version: read from its debug log
// ('view applied' lines carry the version), incrementally.
import * as fs from 'node:fs';

export class EdgeLog {
  private offset = 0;
  private rest = '';
  // version -> epoch ms it was applied.
  readonly applied = new Map<number, number>();
  brokenStreams = 0;
  lastBroken: string | undefined;

  constructor(private readonly file: string) {}

  read(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      const lines = (this.rest + buf.toString('utf8')).split('\n');
      this.rest = lines.pop() ?? '';
      for (const line of lines) this.line(line);
    } finally {
      fs.closeSync(fd);
    }
  }

  private line(line: string): void {
    if (line.includes('"view applied"')) {
      const m = /"version":(\d+)/.exec(line);
      const t = /"time":"([^"]+)"/.exec(line);
      if (m && t && !this.applied.has(Number(m[1]))) this.applied.set(Number(m[1]), Date.parse(t[1]!));
    } else if (line.includes('stream broken')) {
      this.brokenStreams++;
      this.lastBroken = /"reason":"([^"]*)"/.exec(line)?.[1];
    }
  }

  // When the edge applied `version` (or the first later one), if it has.
  appliedAt(version: number): number | undefined {
    this.read();
    const exact = this.applied.get(version);
    if (exact !== undefined) return exact;
    let best: number | undefined;
    for (const [v, at] of this.applied) if (v >= version && (best === undefined || at < best)) best = at;
    return best;
  }

  highestVersion(): number {
    this.read();
    let max = 0;
    for (const v of this.applied.keys()) max = Math.max(max, v);
    return max;
  }
}
