import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentParser } from './document-parser';
import { HttpError } from './http-response';

const limits = { maxDocuments: 1000, maxResources: 128 };
const options = { limits, timeoutMs: 60_000, heapMb: 128, maxWaiting: 4 };
// Tens of seconds of the parser's quadratic duplicate-key check, in 575 KiB.
const SLOW = `spec:\n${Array.from({ length: 50_000 }, (_, i) => `  k${i}: v\n`).join('')}`;

function httpError(status: number, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof HttpError, String(err));
    assert.equal(err.status, status);
    assert.match(err.message, message);
    return true;
  };
}

describe('DocumentParser', () => {
  it('parses in a worker thread and hands back the documents', async () => {
    const parser = new DocumentParser(options);
    assert.deepEqual(await parser.parse('kind: Service\n---\n---\n[{kind: Region}]\n', 'body'), [{ kind: 'Service' }, { kind: 'Region' }]);
  });

  it('answers a syntax error 400 and a limit 413, naming it', async () => {
    const parser = new DocumentParser(options);
    await assert.rejects(parser.parse('a: [1\n', 'body'), httpError(400, /^body: syntax error in document 0/));
    await assert.rejects(parser.parse('---\n'.repeat(1_000_000), 'body'), httpError(413, /the limit is 1000; nothing was applied$/));
  });

  it('stops a parse at its time limit', async () => {
    const parser = new DocumentParser({ ...options, timeoutMs: 1000 });
    await assert.rejects(parser.parse(SLOW, 'body'), httpError(413, /^the request body took over 1 s to parse \(the limit\)/));
    // The next one gets a worker of its own.
    assert.deepEqual(await parser.parse('{"a": 1}', 'body'), [{ a: 1 }]);
  });

  it('stops a parse at its heap limit', async () => {
    const parser = new DocumentParser({ ...options, heapMb: 16 });
    await assert.rejects(parser.parse(`[${'{},'.repeat(349_000)}`, 'body'), httpError(413, /^the request body needs over 16 MB to parse \(the limit\)/));
  });

  it('parses one body at a time and refuses more than maxWaiting behind it', async () => {
    const parser = new DocumentParser({ ...options, timeoutMs: 2000, maxWaiting: 1 });
    const running = parser.parse(SLOW, 'body').catch((err: unknown) => err);
    const waiting = parser.parse('{"b": 2}', 'body');
    await assert.rejects(parser.parse('{"c": 3}', 'body'), httpError(503, /too many applies are being parsed \(1 waiting\)/));
    assert.equal(((await running) as HttpError).status, 413);
    assert.deepEqual(await waiting, [{ b: 2 }]);
  });
});
