// Parses apply bodies off the main thread, one at a time, each in a worker
// thread of its own bounded in time and heap: the event loop keeps the
// leader's lease and serves other requests while a body is parsed, and the
// memory a hostile body took goes with its worker.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ParseLimits } from '../../lib/resources/parse';
import { HttpError } from './http-response';
import type { ParseReply, ParseRequest } from './parse-documents-worker';

const WORKER_FILE = path.join(__dirname, 'parse-documents-worker.js');

export interface DocumentParserOptions {
  limits: Required<ParseLimits>;
  // A legitimate body at the size limit parses in well under a second.
  timeoutMs: number;
  heapMb: number;
  // Bodies waiting for the one running parse; more are refused (503).
  maxWaiting: number;
}

export const DEFAULT_DOCUMENT_PARSER: Omit<DocumentParserOptions, 'limits'> = { timeoutMs: 10_000, heapMb: 128, maxWaiting: 4 };

export class DocumentParser {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly opts: DocumentParserOptions) {}

  // Resolves to the documents; rejects with an HttpError the client gets.
  async parse(text: string, source: string): Promise<unknown[]> {
    if (this.waiting >= this.opts.maxWaiting + 1) {
      throw new HttpError(503, `too many applies are being parsed (${this.opts.maxWaiting} waiting); retry shortly`, [], { 'retry-after': '2' });
    }
    this.waiting++;
    const turn = this.tail.then(() => this.runWorker({ text, source, limits: this.opts.limits }));
    this.tail = turn.catch(() => undefined);
    try {
      return await turn;
    } finally {
      this.waiting--;
    }
  }

  private runWorker(request: ParseRequest): Promise<unknown[]> {
    const { timeoutMs, heapMb } = this.opts;
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_FILE, {
        workerData: request,
        resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.min(32, heapMb / 4) },
        // The worker's output is the reply; nothing of the parent's flags (a test runner's) applies to it.
        execArgv: [],
        stdout: false,
        stderr: false,
      });
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void worker.terminate();
        outcome();
      };
      const timer = setTimeout(
        () => settle(() => reject(new HttpError(413, `the request body took over ${timeoutMs / 1000} s to parse (the limit); nothing was applied`))),
        timeoutMs,
      );
      worker.once('message', (reply: ParseReply) =>
        settle(() => (reply.ok ? resolve(reply.documents) : reject(reply.overLimit ? new HttpError(413, `${reply.message}; nothing was applied`) : new HttpError(400, reply.message)))),
      );
      worker.once('error', (err: Error & { code?: string }) =>
        settle(() =>
          reject(
            err.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? new HttpError(413, `the request body needs over ${heapMb} MB to parse (the limit); nothing was applied`)
              : new HttpError(500, 'internal error', [], {}, err),
          ),
        ),
      );
      worker.once('exit', (code) => settle(() => reject(new HttpError(500, 'internal error', [], {}, new Error(`the parse worker exited with code ${code} without a reply`)))));
    });
  }
}
