import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { adminTokenDigest, decideLocalAdminAccess, readAdminToken } from './local-admin-access';

const TOKEN = 'proxy-admin-token-0123456789';

describe('decideLocalAdminAccess', () => {
  it('lets loopback callers in, with or without a token configured', () => {
    for (const remoteAddress of ['127.0.0.1', '::ffff:127.0.0.1', '::1']) {
      assert.deepEqual(decideLocalAdminAccess({ remoteAddress, authorization: undefined }), { allowed: true });
      assert.deepEqual(decideLocalAdminAccess({ remoteAddress, authorization: undefined }, { tokenDigest: adminTokenDigest(TOKEN) }), { allowed: true });
    }
  });

  it('refuses another host with 403 when the part has no token', () => {
    const d = decideLocalAdminAccess({ remoteAddress: '10.1.0.7', authorization: `Bearer ${TOKEN}` }, { tokenFlag: '--admin-token-file' });
    assert.deepEqual(d, { allowed: false, status: 403, reason: 'only callers on this host may read this (started without --admin-token-file)' });
    assert.deepEqual(decideLocalAdminAccess({ remoteAddress: '10.1.0.7', authorization: undefined }), { allowed: false, status: 403, reason: 'only callers on this host may read this' });
    assert.equal(decideLocalAdminAccess({ remoteAddress: undefined, authorization: undefined }).allowed, false);
  });

  it('takes the right bearer token from another host; 401 without one or with a wrong one', () => {
    const digest = { tokenDigest: adminTokenDigest(TOKEN) };
    assert.deepEqual(decideLocalAdminAccess({ remoteAddress: '10.1.0.7', authorization: `Bearer ${TOKEN}` }, digest), { allowed: true });
    assert.deepEqual(decideLocalAdminAccess({ remoteAddress: '::ffff:10.1.0.7', authorization: undefined }, digest), {
      allowed: false,
      status: 401,
      reason: 'a bearer token is required from another host (Authorization: Bearer <token>)',
    });
    assert.deepEqual(decideLocalAdminAccess({ remoteAddress: '10.1.0.7', authorization: `Bearer ${TOKEN}x` }, digest), { allowed: false, status: 401, reason: 'the bearer token is not valid' });
    assert.equal(decideLocalAdminAccess({ remoteAddress: '10.1.0.7', authorization: TOKEN }, digest).allowed, false, 'the scheme is required');
  });
});

describe('readAdminToken', () => {
  it('reads one token and refuses a short or missing one, naming the flag', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-admin-token-'));
    try {
      fs.writeFileSync(path.join(dir, 'ok'), `${TOKEN}\n`);
      assert.deepEqual(readAdminToken(path.join(dir, 'ok'), '--admin-token-file'), adminTokenDigest(TOKEN));
      fs.writeFileSync(path.join(dir, 'short'), 'abc\n');
      assert.throws(() => readAdminToken(path.join(dir, 'short'), '--admin-token-file'), /--admin-token-file .*short: a token has at least 16 characters/);
      assert.throws(() => readAdminToken(path.join(dir, 'none'), '--admin-token-file'), /--admin-token-file .*none: no such file/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
