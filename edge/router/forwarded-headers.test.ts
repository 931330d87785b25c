import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestHead } from '../request/request-head';
import { addForwardedHeaders, forwardedElement, type ForwardingOptions } from './forwarded-headers';
import { RequestIdGenerator } from './request-id';
import { MAX_TRUSTED_PROXIES, TrustedProxies } from './trusted-proxies';

const SPOOFED = ['Host', 'echo.example.com', 'X-Forwarded-For', '1.2.3.4', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'attacker.example', 'Forwarded', 'for=9.9.9.9'];

function forward(raw: string[], peer: string | undefined, options: Partial<ForwardingOptions> = {}): { headers: Record<string, string>; client: string | undefined } {
  const head = new RequestHead(raw);
  addForwardedHeaders(head, peer, 'http', { trustForwarded: false, trustedProxies: TrustedProxies.NONE, ids: new RequestIdGenerator(), ...options });
  const headers: Record<string, string> = {};
  for (let i = 0; i < head.headers.length; i += 2) {
    const name = head.headers[i].toLowerCase();
    assert.equal(headers[name], undefined, `${name} sent once`);
    headers[name] = head.headers[i + 1];
  }
  return { headers, client: head.clientAddress };
}

describe('forwarded headers at an edge', () => {
  it("replaces an untrusted client's forwarding headers with what the edge saw", () => {
    const { headers, client } = forward(SPOOFED, '203.0.113.5');
    assert.equal(headers['x-forwarded-for'], '203.0.113.5');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-host'], 'echo.example.com');
    assert.equal(headers.forwarded, 'for=203.0.113.5;host="echo.example.com";proto=http');
    assert.equal(headers.host, 'echo.example.com');
    assert.equal(client, '203.0.113.5');
  });

  it('does the same for a peer outside --trusted-proxies', () => {
    const trustedProxies = TrustedProxies.parse('10.0.0.0/8', '--trusted-proxies');
    const { headers, client } = forward(SPOOFED, '192.0.2.1', { trustedProxies });
    assert.equal(headers['x-forwarded-for'], '192.0.2.1');
    assert.equal(headers['x-forwarded-host'], 'echo.example.com');
    assert.equal(client, '192.0.2.1');
  });

  it('appends to a trusted peer\'s headers and takes the right-most untrusted address as the client', () => {
    const trustedProxies = TrustedProxies.parse('10.0.0.0/8, fd00::/8', '--trusted-proxies');
    const raw = ['Host', 'echo.example.com', 'X-Forwarded-For', '1.2.3.4, 198.51.100.7, 10.1.1.1', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'www.example.com', 'Forwarded', 'for=198.51.100.7'];
    const { headers, client } = forward(raw, 'fd00::1', { trustedProxies });
    assert.equal(headers['x-forwarded-for'], '1.2.3.4, 198.51.100.7, 10.1.1.1, fd00::1');
    assert.equal(headers['x-forwarded-proto'], 'https');
    assert.equal(headers['x-forwarded-host'], 'www.example.com');
    assert.equal(headers.forwarded, 'for=198.51.100.7, for="[fd00::1]";host="echo.example.com";proto=http');
    assert.equal(client, '198.51.100.7', '1.2.3.4 was written by the client itself');
  });

  it('trusts an IPv4 peer written as IPv6, and falls back to the peer or the left-most address', () => {
    const trustedProxies = TrustedProxies.parse('127.0.0.0/8', '--trusted-proxies');
    assert.equal(forward(['Host', 'h'], '::ffff:127.0.0.1', { trustedProxies }).client, '::ffff:127.0.0.1', 'no x-forwarded-for: the peer');
    assert.equal(forward(['Host', 'h', 'X-Forwarded-For', '127.0.0.9, 127.0.0.8'], '::ffff:127.0.0.1', { trustedProxies }).client, '127.0.0.9');
    assert.equal(forward(['Host', 'h', 'X-Forwarded-For', 'junk, 127.0.0.8'], '127.0.0.1', { trustedProxies }).client, 'junk', 'not an address: not trusted');
    assert.equal(forward(['Host', 'h', 'X-Forwarded-For', '1.1.1.1'], '127.0.0.1', { trustedProxies }).headers['x-forwarded-for'], '1.1.1.1, 127.0.0.1');
  });

  it('at an ingress keeps what the sending edge set', () => {
    const raw = ['Host', 'echo.mesh', 'X-Forwarded-For', '203.0.113.5', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'echo.example.com'];
    const { headers, client } = forward(raw, '10.9.0.1', { trustForwarded: true });
    assert.equal(headers['x-forwarded-for'], '203.0.113.5, 10.9.0.1');
    assert.equal(headers['x-forwarded-proto'], 'https');
    assert.equal(headers['x-forwarded-host'], 'echo.example.com');
    assert.equal(client, '203.0.113.5');
  });

  it('quotes what RFC 7239 wants quoted', () => {
    assert.equal(forwardedElement(undefined, '', 'https'), 'for=unknown;proto=https');
    assert.equal(forwardedElement('::1', 'a"b\\c:80', 'http'), 'for="[::1]";host="a\\"b\\\\c:80";proto=http');
  });
});

describe('--trusted-proxies', () => {
  it('refuses what is not a list of networks, naming the flag', () => {
    assert.throws(() => TrustedProxies.parse('10.0.0.0/33', '--trusted-proxies'), /^Error: --trusted-proxies: prefix length must be from 0 to 32/);
    assert.throws(() => TrustedProxies.parse('10.1.2.3/8', '--trusted-proxies'), /^Error: --trusted-proxies: .*host bits set/);
    assert.throws(() => TrustedProxies.parse('lb.example', '--trusted-proxies'), /^Error: --trusted-proxies: not an IPv4 or IPv6 network/);
    assert.throws(() => TrustedProxies.parse(' , ', '--trusted-proxies'), /^Error: --trusted-proxies: expected one or more networks/);
    const many = Array.from({ length: MAX_TRUSTED_PROXIES + 1 }, (_, i) => `10.0.${i}.0/24`).join(',');
    assert.throws(() => TrustedProxies.parse(many, '--trusted-proxies'), new RegExp(`at most ${MAX_TRUSTED_PROXIES} networks, got ${MAX_TRUSTED_PROXIES + 1}`));
  });

  it('matches addresses against the networks', () => {
    const t = TrustedProxies.parse('10.0.0.0/8,192.0.2.7,2001:db8::/32', '--trusted-proxies');
    assert.equal(t.trusts('10.255.0.1'), true);
    assert.equal(t.trusts('11.0.0.1'), false);
    assert.equal(t.trusts('192.0.2.7'), true);
    assert.equal(t.trusts('192.0.2.8'), false);
    assert.equal(t.trusts('2001:db8::42'), true);
    assert.equal(t.trusts('::ffff:10.0.0.1'), true);
    assert.equal(t.trusts(undefined), false);
    assert.equal(TrustedProxies.NONE.trusts('10.0.0.1'), false);
  });
});
