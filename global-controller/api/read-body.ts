// Reads a request body up to a limit; over it, 413 without buffering the rest.
import type * as http from 'node:http';
import { HttpError } from './http-response';
import { formatBytes } from './apply-limits';

// Whatever else the client sends is dropped unread, not buffered, until it
// stops or the server's request timeout ends the connection; the client that
// is still sending can read the answer.
function tooLarge(what: string, limitBytes: number): HttpError {
  return new HttpError(413, `${what} is over the limit of ${formatBytes(limitBytes)}; nothing was applied`);
}

export function readBody(req: http.IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    return Promise.reject(tooLarge(`the request body (${declared} bytes)`, limitBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        req.removeAllListeners('data');
        req.resume();
        chunks.length = 0;
        reject(tooLarge('the request body', limitBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // The client went away mid-body: its mistake, with nobody left to answer.
    req.on('error', () => reject(new HttpError(400, 'the request body ended before it was complete')));
  });
}
