// Validates the documents of federation messages. A snapshot of 10,000
// services and 100,000 instances is 0.6 s of zod on one core: batches of
// INLINE_BELOW documents or more are split between worker threads, so the
// event loop keeps serving (keepalives, discovery, the registry, the region
// view) and the zone parses the texts itself meanwhile. Smaller batches
// (deltas) are validated inline. Workers are made ahead of a join (warm) and
// ended after a quiet minute; if one fails, validation runs inline. A batch
// that is refused is validated again inline, so the reason names every
// problem exactly as lib/resources does for the whole batch.
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ResourceDocument } from '../../lib/resources';
import { parseTexts, validateTexts, type DecodeReply, type TextsResult } from './document-decoding';

const INLINE_BELOW = 500;
const IDLE_MS = 60_000;
const WORKERS = Math.min(2, os.availableParallelism());

export class DocumentValidator {
  private readonly workers: (Worker | undefined)[] = [];
  // Request id -> the worker it went to, and its answer's taker.
  private readonly waiting = new Map<number, { slot: number; done: (reply: DecodeReply | undefined) => void }>();
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: { inlineBelow?: number; idleMs?: number; workers?: number } = {}) {}

  private get size(): number {
    return this.opts.workers ?? WORKERS;
  }

  // Starts the workers before a large batch is expected (a joining zone).
  warm(): void {
    for (let i = 0; i < this.size; i++) this.worker(i);
    this.armIdle();
  }

  async validate(texts: string[]): Promise<TextsResult> {
    if (texts.length < (this.opts.inlineBelow ?? INLINE_BELOW)) return validateTexts(texts);
    const chunk = Math.ceil(texts.length / this.size);
    const replies = Array.from({ length: this.size }, (_, i) => this.ask(i, texts.slice(i * chunk, (i + 1) * chunk)));
    const parsed = parseTexts(texts);
    const answers = await Promise.all(replies);
    if (!parsed.ok || answers.some((a) => !a?.ok) || hasDuplicates(parsed.docs)) return validateTexts(texts);
    const documents = parsed.docs as ResourceDocument[];
    answers.forEach((a, c) => {
      if (a?.ok) for (const [i, json] of a.normalized) documents[c * chunk + i] = JSON.parse(json) as ResourceDocument;
    });
    return { ok: true, documents };
  }

  close(): void {
    clearTimeout(this.idleTimer);
    for (const w of this.workers.splice(0)) void w?.terminate();
  }

  // The worker's answer, or undefined if it failed (then the batch is validated inline).
  private ask(slot: number, texts: string[]): Promise<DecodeReply | undefined> {
    const worker = this.worker(slot);
    clearTimeout(this.idleTimer);
    const id = ++this.nextId;
    return new Promise((resolve) => {
      const done = (reply: DecodeReply | undefined) => {
        this.waiting.delete(id);
        if (this.waiting.size === 0) this.armIdle();
        resolve(reply);
      };
      this.waiting.set(id, { slot, done });
      worker.postMessage({ id, texts });
    });
  }

  private worker(slot: number): Worker {
    const held = this.workers[slot];
    if (held) return held;
    const worker = new Worker(path.join(__dirname, 'validation-worker.js'));
    worker.unref();
    worker.on('message', (reply: DecodeReply) => this.waiting.get(reply.id)?.done(reply));
    const failed = () => {
      if (this.workers[slot] === worker) this.workers[slot] = undefined;
      for (const w of [...this.waiting.values()]) if (w.slot === slot) w.done(undefined);
    };
    worker.on('error', failed);
    worker.on('exit', failed);
    this.workers[slot] = worker;
    return worker;
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close(), this.opts.idleMs ?? IDLE_MS);
    this.idleTimer.unref();
  }
}

// Whether a kind/name appears twice across the batch (each worker sees only its part).
function hasDuplicates(docs: unknown[]): boolean {
  const seen = new Set<string>();
  for (const d of docs) {
    const doc = d as { kind?: unknown; metadata?: { name?: unknown } };
    const key = `${String(doc?.kind)}/${String(doc?.metadata?.name)}`;
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}
