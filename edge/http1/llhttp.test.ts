// The parser access: node's own parser as node:http configures it, and a
// clear refusal when a node release no longer offers it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHttpCommon, newRequestParser, newResponseParser, parserConstants } from './llhttp';

describe('llhttp access', () => {
  it('refuses to start, naming what is missing, when node has no usable parser', () => {
    assert.throws(() => checkHttpCommon({}), /fast HTTP\/1\.1 path needs node's HTTP parser .*missing: HTTPParser, methods, _checkIsHttpToken, _checkInvalidHeaderChar.*--http1-engine node instead/);
    assert.throws(() => checkHttpCommon({ ...require('_http_common'), methods: undefined }), /missing: methods\)/);
  });

  it('parses with node:http strictness: Content-Length with Transfer-Encoding is refused with its HPE code', () => {
    const P = parserConstants();
    const parser = newRequestParser(16 * 1024);
    parser[P.kOnHeadersComplete] = () => 0;
    parser[P.kOnMessageComplete] = () => undefined;
    const ret = parser.execute(Buffer.from('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'));
    assert.equal(typeof ret, 'object');
    assert.equal((ret as { code: string }).code, 'HPE_INVALID_TRANSFER_ENCODING');
    parser.close();
  });

  it('parses responses too: two different Content-Lengths from an instance are refused', () => {
    const P = parserConstants();
    const parser = newResponseParser();
    parser[P.kOnHeadersComplete] = () => 0;
    parser[P.kOnMessageComplete] = () => undefined;
    const ret = parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc'));
    assert.equal(typeof ret, 'object');
    assert.equal((ret as { code: string }).code, 'HPE_UNEXPECTED_CONTENT_LENGTH');
    parser.close();
  });
});
