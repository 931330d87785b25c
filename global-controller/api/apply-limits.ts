// What one POST /v1/apply may hold. The resources are one etcd transaction:
// at most etcd's default --max-txn-ops of them, in a request under etcd's
// default 1.5 MiB --max-request-bytes, so a body larger than 1 MiB rarely
// applies anyway; the flag may raise it to 4 MiB for an etcd configured so.
import { MAX_DOCUMENTS_PER_APPLY } from '../store/resource-store';

export const DEFAULT_APPLY_BODY_LIMIT_BYTES = 1024 * 1024;
export const MIN_APPLY_BODY_LIMIT_BYTES = 16 * 1024;
export const MAX_APPLY_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

// YAML documents in one body, empty ones included: comments and separators
// around the resources fit many times over; a stream of empty documents does not.
export const MAX_YAML_DOCUMENTS_PER_APPLY = 1000;
export const MAX_RESOURCES_PER_APPLY = MAX_DOCUMENTS_PER_APPLY;

const SIZE = /^(\d{1,10})\s*(|B|KiB|MiB)$/;
const UNIT: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 * 1024 };

// "1MiB", "512KiB", "1048576": a size within the bounds above.
export function parseApplyBodyLimit(text: string, flag = '--apply-body-limit'): number {
  const m = SIZE.exec(text.trim());
  const bytes = m ? Number(m[1]) * UNIT[m[2]!]! : NaN;
  if (!Number.isSafeInteger(bytes)) throw new Error(`${flag} ${text}: not a size like 1MiB, 512KiB or 1048576`);
  if (bytes < MIN_APPLY_BODY_LIMIT_BYTES || bytes > MAX_APPLY_BODY_LIMIT_BYTES) {
    throw new Error(`${flag} ${text}: must be from 16KiB to 4MiB`);
  }
  return bytes;
}

export function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
