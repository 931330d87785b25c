// The upgrade rule's pieces: which Upgrade values are WebSocket, h2c or
// other, and the head an h2c request is served with.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { headWithoutUpgrade, upgradeKind } from './upgrade-filter';

describe('upgradeKind', () => {
  it('tells WebSocket (any case, in a list), h2c alone, and anything else apart', () => {
    assert.equal(upgradeKind('websocket'), 'websocket');
    assert.equal(upgradeKind('WebSocket'), 'websocket');
    assert.equal(upgradeKind('h2c, websocket'), 'websocket');
    assert.equal(upgradeKind('h2c'), 'h2c');
    assert.equal(upgradeKind(' H2C '), 'h2c');
    assert.equal(upgradeKind('h2c, foo'), 'other');
    assert.equal(upgradeKind('foo'), 'other');
    assert.equal(upgradeKind('TLS/1.0'), 'other');
    assert.equal(upgradeKind(''), 'other');
    assert.equal(upgradeKind(undefined), 'other');
  });
});

describe('headWithoutUpgrade', () => {
  it('drops Upgrade, HTTP2-Settings and their Connection tokens, keeping the rest in order', () => {
    const req = {
      method: 'POST',
      url: '/a?b=1',
      httpVersion: '1.1',
      rawHeaders: ['Host', 'x.mesh', 'Connection', 'keep-alive, Upgrade, HTTP2-Settings', 'Upgrade', 'h2c', 'HTTP2-Settings', 'AAMA', 'Content-Length', '3'],
    } as unknown as IncomingMessage;
    assert.equal(headWithoutUpgrade(req), 'POST /a?b=1 HTTP/1.1\r\nHost: x.mesh\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n');
  });

  it('leaves out a Connection header that named only the upgrade', () => {
    const req = { method: 'GET', url: '/', httpVersion: '1.1', rawHeaders: ['Host', 'x', 'Connection', 'Upgrade', 'Upgrade', 'h2c'] } as unknown as IncomingMessage;
    assert.equal(headWithoutUpgrade(req), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  });
});
