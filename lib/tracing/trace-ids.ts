// Random trace ids (16 bytes) and span ids (8 bytes) as lowercase hex, cut
// from a pool filled by crypto.randomFillSync: one string per id, not a
// Buffer and a syscall each.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

function take(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const start = offset;
    offset += bytes;
    // All-zero ids are invalid (W3C); with 64 random bits this never repeats.
    for (let i = start; i < start + bytes; i++) if (pool[i] !== 0) return pool.toString('hex', start, start + bytes);
  }
}

export function newTraceId(): string {
  return take(16);
}

export function newSpanId(): string {
  return take(8);
}
