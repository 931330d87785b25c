// Small response helpers for the admin API: every error is one JSON shape,
// `{"error": "...", "details": [...]}`, with a status that fits.
import type * as http from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: unknown[] = [],
    readonly headers: Record<string, string> = {},
    // What went wrong underneath, for the log (never sent to the client).
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: http.ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: http.ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: err.message, details: err.details }, err.headers);
}
