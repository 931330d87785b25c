import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackAddress, isLoopbackHost } from './loopback';

describe('isLoopbackHost', () => {
  it('takes 127.0.0.0/8, ::1 and localhost', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', 'gc.localhost']) assert.equal(isLoopbackHost(h), true, h);
  });
  it('refuses every other address, the wildcards included', () => {
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.0.2.10', 'gc.example.com', '128.0.0.1', '::ffff:10.0.0.1', 'localhost.example.com']) assert.equal(isLoopbackHost(h), false, h);
  });
});

describe('isLoopbackAddress', () => {
  it('takes a loopback peer, IPv4-mapped too', () => {
    for (const a of ['127.0.0.1', '::ffff:127.0.0.1', '::1']) assert.equal(isLoopbackAddress(a), true, a);
  });
  it('refuses a remote peer and an unknown one', () => {
    for (const a of ['10.1.2.3', '::ffff:10.1.2.3', '2001:db8::1', '', undefined]) assert.equal(isLoopbackAddress(a), false, String(a));
  });
});
