// A fast request's headers object must be what node:http's
// IncomingMessage.headers is for the same raw headers (traffic rules match on it).
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { describe, it } from 'node:test';
import { headerObject } from './header-object';

function nodeHeaders(raw: string[]): http.IncomingHttpHeaders {
  const msg = new http.IncomingMessage(null as never) as http.IncomingMessage & { _addHeaderLines(h: string[], n: number): void };
  msg._addHeaderLines(raw, raw.length);
  return msg.headers;
}

describe('request headers object', () => {
  it('joins, keeps the first or lists repeated fields as node:http does', () => {
    const raw = [
      'Host', 'a.example', 'HOST', 'b.example',
      'Accept', 'text/html', 'accept', 'application/json',
      'Cookie', 'a=1', 'cookie', 'b=2',
      'Set-Cookie', 'x=1', 'set-cookie', 'y=2',
      'Content-Type', 'text/plain', 'Content-Type', 'text/html',
      'User-Agent', 'one', 'User-Agent', 'two',
      'X-Custom', '1', 'x-custom', '2',
      'Authorization', 'Bearer a', 'Authorization', 'Bearer b',
    ];
    assert.deepEqual({ ...headerObject(raw) }, { ...nodeHeaders(raw) });
  });
});
