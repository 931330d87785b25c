import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestHead } from '../request/request-head';
import { resolveTarget } from '../request/route-request';
import { normalizeRequestPath, PathRefusal } from './normalize-path';

function refusal(target: string): string {
  const r = normalizeRequestPath(target);
  assert.ok(r instanceof PathRefusal, `${target} should be refused, got ${String(r)}`);
  return r.reason;
}

describe('request path normalization (RFC 3986 5.2.4)', () => {
  it('removes dot segments as the RFC examples do', () => {
    assert.equal(normalizeRequestPath('/a/b/c/./../../g'), '/a/g');
    assert.equal(normalizeRequestPath('/mid/content=5/../6'), '/mid/6');
    assert.equal(normalizeRequestPath('/a/.'), '/a/');
    assert.equal(normalizeRequestPath('/a/..'), '/');
    assert.equal(normalizeRequestPath('/a/./'), '/a/');
    assert.equal(normalizeRequestPath('/./a'), '/a');
  });

  it('ends a climb above the root at the root', () => {
    assert.equal(normalizeRequestPath('/a/../../etc/passwd'), '/etc/passwd');
    assert.equal(normalizeRequestPath('/..'), '/');
    assert.equal(normalizeRequestPath('/../../..'), '/');
  });

  it('keeps the query as sent, dots and escapes included', () => {
    assert.equal(normalizeRequestPath('/a/../b?x=/../y&z=%zz'), '/b?x=/../y&z=%zz');
    assert.equal(normalizeRequestPath('/b?token=SECRET'), '/b?token=SECRET');
  });

  it('changes nothing else: empty segments, names with dots, escapes', () => {
    const same = ['/', '/a//b', '/a/b/', '/.well-known/x', '/a/...', '/a/..b/.c', '/file%2Etxt', '/%41%e0%a4%a4', '*'];
    for (const t of same) assert.equal(normalizeRequestPath(t), t, t);
    assert.equal(normalizeRequestPath('/a//../b'), '/a/b', 'the empty segment is the one climbed from');
  });

  it('returns the same string when there is nothing to do', () => {
    const target = '/api/users/42?x=1';
    assert.equal(normalizeRequestPath(target), target);
  });

  it('refuses malformed percent-encoding in the path', () => {
    for (const t of ['/%E0%A4%A', '/%', '/a%', '/a%2', '/%zz', '/%G0/x', '/%A?x=1']) {
      assert.equal(refusal(t), 'malformed percent-encoding in the path', t);
    }
  });

  it('refuses encoded slashes and encoded dot segments', () => {
    assert.equal(refusal('/a%2Fb'), 'encoded slash (%2F) in the path');
    assert.equal(refusal('/a%2f..%2fetc'), 'encoded slash (%2F) in the path');
    for (const t of ['/a/%2E%2E/etc', '/a/.%2e/etc', '/a/%2e./x', '/a/%2E/x', '/a/%2e%2E']) {
      assert.equal(refusal(t), 'encoded dot segment (%2E) in the path', t);
    }
  });
});

describe('request target: absolute form and normalization', () => {
  const head = (host: string) => new RequestHead(['Host', host]);

  it('takes the absolute form URI authority as the host, replacing Host', () => {
    const h = head('attacker.example');
    assert.equal(resolveTarget(h, 'http://echo.example.com/abs'), '/abs');
    assert.equal(h.host, 'echo.example.com');
    const s = head('attacker.example');
    assert.equal(resolveTarget(s, 'HTTPS://Echo.Example.com:8443/a/../b?q=1'), '/b?q=1');
    assert.equal(s.host, 'Echo.Example.com:8443');
  });

  it('keeps the query of an absolute-form target without a path', () => {
    const h = head('x');
    assert.equal(resolveTarget(h, 'http://echo.example.com?a=1'), '/?a=1');
    assert.equal(h.host, 'echo.example.com');
    assert.equal(resolveTarget(head('x'), 'http://echo.example.com'), '/');
  });

  it('refuses userinfo in the authority', () => {
    const h = head('echo.example.com');
    const r = resolveTarget(h, 'http://echo.example.com@attacker.example/');
    assert.ok(r instanceof PathRefusal);
    assert.equal(r.reason, 'userinfo in the request target');
  });

  it('leaves Host alone for an origin-form target', () => {
    const h = head('echo.example.com');
    assert.equal(resolveTarget(h, '/http://x/'), '/http://x/');
    assert.equal(h.host, 'echo.example.com');
  });
});
