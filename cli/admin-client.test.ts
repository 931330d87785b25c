// How the CLI reports each way a call to the admin API can fail, seen from
// the outside: one `error:` line on stderr, exit 1, nothing on stdout.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';

import { checkPlaintext, connectionFromArgs, connectionOptions, DEFAULT_SERVER, normalizeServer } from './admin-client';
import { parseCommandArgs } from './args';
import { errorBody, FakeAdminServer } from './testing/fake-admin-server';
import { runCli } from './testing/run-cli';
import { freePort } from '../lib/process/free-port';


describe('admin API failures', () => {
  const server = new FakeAdminServer();
  let url = '';

  before(async () => {
    url = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('names the server and the reason when nothing listens', async () => {
    const port = await freePort();
    const run = await runCli(['get', 'regions'], { env: { MERIDIAN_SERVER: `http://127.0.0.1:${port}` } });
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, `error: cannot reach the global controller at http://127.0.0.1:${port}: connection refused\n`);
  });

  it('tells how to give a token on a 401', async () => {
    server.answer(() => ({ status: 401, body: errorBody('missing or unknown token') }));
    const none = await runCli(['get', 'regions', '--server', url]);
    assert.equal(none.code, 1);
    assert.equal(
      none.stderr,
      'error: not authorized: missing or unknown token (no token given; set --token or MERIDIAN_TOKEN)\n',
    );
    assert.equal(server.requests[0].headers.authorization, undefined);
    const wrong = await runCli(['get', 'regions', '--server', url], { env: { MERIDIAN_TOKEN: 'nope-nope-nope-nope' } });
    assert.equal(
      wrong.stderr,
      'error: not authorized: missing or unknown token (the token was refused; check --token or MERIDIAN_TOKEN)\n',
    );
    assert.equal(server.requests[1].headers.authorization, 'Bearer nope-nope-nope-nope');
  });

  it('refuses a token that breaks the token rule before sending it, naming where it came from', async () => {
    const short = await runCli(['get', 'regions', '--server', url], { env: { MERIDIAN_TOKEN: 'nope' } });
    assert.equal(short.code, 2);
    assert.equal(short.stderr, 'error: MERIDIAN_TOKEN: a token has at least 16 characters, this one has 4\n');
    const spaced = await runCli(['get', 'regions', '--server', url, '--token', 'Bearer 0123456789abcdef']);
    assert.equal(spaced.code, 2);
    assert.equal(spaced.stderr, 'error: --token: a token has only the characters A-Z a-z 0-9 . _ ~ + / = : - (no spaces); character 7 is not one of them\n');
    assert.equal(server.requests.length, 0, 'nothing was sent');
  });

  it('prefers --server and --token over the environment', async () => {
    server.answer(() => ({ body: { kind: 'List', items: [] } }));
    const port = await freePort();
    const run = await runCli(['get', 'regions', '--server', url, '--token', 'flag-token-0123456789'], {
      env: { MERIDIAN_SERVER: `http://127.0.0.1:${port}`, MERIDIAN_TOKEN: 'env-token-0123456789' },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(server.requests[0].headers.authorization, 'Bearer flag-token-0123456789');
  });

  it('reports 413 and 503 with what to do', async () => {
    server.answer(() => ({ status: 413, body: errorBody('request body over the limit of 1 MiB') }));
    const big = await runCli(['get', 'regions', '--server', url]);
    assert.equal(big.code, 1);
    assert.equal(big.stderr, 'error: request too large: request body over the limit of 1 MiB (apply fewer documents at a time)\n');

    server.answer(() => ({ status: 503, body: errorBody('etcd unavailable'), headers: { 'retry-after': '2' } }));
    const down = await runCli(['get', 'regions', '--server', url]);
    assert.equal(down.code, 1);
    assert.equal(
      down.stderr,
      'error: the global controller cannot serve this now: etcd unavailable (its store is unavailable; retry in 2s)\n',
    );
  });

  it('reports an answer that is not the admin API in one line', async () => {
    server.answer(() => ({ status: 502, body: 'Bad Gateway\n<html>...</html>' }));
    const run = await runCli(['get', 'regions', '--server', url]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `error: the global controller at ${url} answered HTTP 502: Bad Gateway\n`);
  });

  it('gives up after 10 seconds of silence', { timeout: 30_000 }, async () => {
    // Accepts the connection and never answers.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const run = await runCli(['get', 'regions', '--server', `http://127.0.0.1:${port}`]);
      assert.equal(run.code, 1);
      assert.equal(run.stderr, `error: the global controller at http://127.0.0.1:${port} did not answer within 10s\n`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('connectionFromArgs', () => {
  const parse = (argv: string[]) =>
    parseCommandArgs('get', argv, connectionOptions);

  it('falls back to the environment, then to the default address', () => {
    assert.deepEqual(connectionFromArgs(parse([]), {}), { server: DEFAULT_SERVER, token: undefined, timeoutMs: 10_000, trust: { kind: 'system' }, insecure: false });
    assert.deepEqual(connectionFromArgs(parse([]), { MERIDIAN_SERVER: 'gc:7401', MERIDIAN_TOKEN: 'env-token-0123456789' }), {
      server: 'http://gc:7401',
      token: 'env-token-0123456789',
      timeoutMs: 10_000,
      trust: { kind: 'system' },
      insecure: false,
    });
    const flags = parse(['--server', 'http://a:1', '--token', 'flag-token-0123456789']);
    assert.equal(connectionFromArgs(flags, { MERIDIAN_SERVER: 'b:2', MERIDIAN_TOKEN: 'env-token-0123456789' }).token, 'flag-token-0123456789');
  });
});

describe('checkPlaintext', () => {
  const settings = (server: string, insecure = false) => ({ server, timeoutMs: 10_000, insecure });

  it('allows plaintext to loopback and any https', () => {
    for (const server of ['http://127.0.0.1:7401', 'http://localhost:7401', 'http://[::1]:7401', 'https://192.0.2.10:7401', 'https://gc.example.com:7401']) {
      assert.doesNotThrow(() => checkPlaintext(settings(server)), server);
    }
  });

  it('refuses plaintext to another address unless told --insecure, naming the way out', () => {
    for (const server of ['http://192.0.2.10:7401', 'http://gc.example.com:7401', 'http://0.0.0.0:7401', 'http://[2001:db8::1]:7401']) {
      assert.throws(
        () => checkPlaintext(settings(server)),
        (err: Error) => /^refusing plaintext http to .*: the token would cross the network in clear; use https:\/\/.* or give --insecure \(MERIDIAN_INSECURE=1\)/.test(err.message),
        server,
      );
      assert.doesNotThrow(() => checkPlaintext(settings(server, true)), server);
    }
  });

  it('takes --insecure and MERIDIAN_INSECURE=1', () => {
    const parse = (argv: string[]) => parseCommandArgs('get', argv, connectionOptions);
    assert.equal(connectionFromArgs(parse(['--insecure']), {}).insecure, true);
    assert.equal(connectionFromArgs(parse([]), { MERIDIAN_INSECURE: '1' }).insecure, true);
    assert.equal(connectionFromArgs(parse([]), { MERIDIAN_INSECURE: '0' }).insecure, false);
  });

  it('the CLI refuses before connecting: nothing listens there and no timeout is waited for', async () => {
    const run = await runCli(['get', 'regions'], { env: { MERIDIAN_SERVER: 'http://192.0.2.10:7401', MERIDIAN_TOKEN: 'env-token-0123456789' } });
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^error: refusing plaintext http to http:\/\/192\.0\.2\.10:7401: /);
  });
});

describe('normalizeServer', () => {
  it('accepts host:port and drops a trailing slash', () => {
    assert.equal(normalizeServer('127.0.0.1:7401'), 'http://127.0.0.1:7401');
    assert.equal(normalizeServer('localhost:7401'), 'http://localhost:7401');
    assert.equal(normalizeServer('https://gc.example.com/'), 'https://gc.example.com');
  });

  it('refuses what is not an http(s) URL', () => {
    assert.throws(() => normalizeServer('ftp://x'), /only http and https/);
    assert.throws(() => normalizeServer('http://'), /invalid server address/);
  });
});
