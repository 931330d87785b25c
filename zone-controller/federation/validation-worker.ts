// The worker thread of ./document-validator.ts: validates one batch of
// documents with lib/resources, off the zone's event loop.
import { parentPort } from 'node:worker_threads';
import { normalizedOrRefused, type DecodeReply, type DecodeRequest } from './document-decoding';

parentPort!.on('message', (req: DecodeRequest) => {
  let reply: DecodeReply;
  try {
    reply = { id: req.id, ...normalizedOrRefused(req.texts) };
  } catch {
    reply = { id: req.id, ok: false };
  }
  parentPort!.postMessage(reply);
});
