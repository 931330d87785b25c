import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { AccessLog, redactQuery, type AccessLogQuery, type AccessRecord } from './access-log';

class Lines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
}

function record(url: string): AccessRecord {
  return {
    method: 'GET', host: 'echo.mesh', url, status: 200, service: 'echo', region: 'local', ms: 1, tries: 1, requestId: 'r',
    remote: '127.0.0.1', protocol: 'HTTP/1.1', trace_id: 't', span_id: 's', parent_span_id: '', span_name: 'edge',
  };
}

function logged(url: string, query?: AccessLogQuery): unknown {
  const out = new Lines();
  new AccessLog(1, {}, out, undefined, query).write(record(url));
  return out.lines[0]!.url;
}

describe('access log query strings', () => {
  it('redacts the query by default, keeping the path', () => {
    assert.equal(logged('/q?token=SECRET123'), '/q?<redacted>');
    assert.equal(logged('/q?SECRET123'), '/q?<redacted>');
    assert.equal(logged('/q'), '/q');
    assert.equal(redactQuery('/q?'), '/q?');
    assert.equal(redactQuery('http://echo.example.com/abs?a=1'), 'http://echo.example.com/abs?<redacted>');
  });

  it('logs the full query when asked', () => {
    assert.equal(logged('/q?token=SECRET123', 'full'), '/q?token=SECRET123');
  });
});
