// The worker thread that parses an apply's body (document-parser.ts starts
// one per body): YAML parsing of a hostile megabyte can take seconds and
// hundreds of megabytes, which must not stop the main thread's event loop
// (the leader's etcd lease is kept alive there) nor stay in its heap.
import { parentPort, workerData } from 'node:worker_threads';
import { DocumentLimitError, parseDocuments, type ParseLimits } from '../../lib/resources/parse';

export interface ParseRequest {
  text: string;
  source: string;
  limits: ParseLimits;
}

export type ParseReply = { ok: true; documents: unknown[] } | { ok: false; message: string; overLimit: boolean };

function run({ text, source, limits }: ParseRequest): ParseReply {
  try {
    return { ok: true, documents: parseDocuments(text, source, limits) };
  } catch (err) {
    return { ok: false, message: (err as Error).message, overLimit: err instanceof DocumentLimitError };
  }
}

parentPort?.postMessage(run(workerData as ParseRequest));
