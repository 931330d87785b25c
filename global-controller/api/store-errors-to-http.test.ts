import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GRPCProtocolError } from 'etcd3';
import { ConflictError, StoreUnavailableError } from '../store/errors';
import { storeErrorToHttp } from './store-errors-to-http';

describe('store errors as HTTP statuses', () => {
  it('etcd away is 503 with Retry-After', () => {
    const e = storeErrorToHttp(new StoreUnavailableError('apply', 'connection refused'));
    assert.equal(e.status, 503);
    assert.equal(e.headers['retry-after'], '2');
  });

  it('an error etcd answered with is 503 naming it, with the cause kept for the log', () => {
    const cause = new GRPCProtocolError('etcdserver: leader changed');
    const e = storeErrorToHttp(cause);
    assert.equal(e.status, 503);
    assert.match(e.message, /leader changed/);
    assert.equal(e.cause, cause);
  });

  it('a conflict is 409', () => {
    assert.equal(storeErrorToHttp(new ConflictError('Service', 'echo', 3, 5)).status, 409);
  });

  it('anything else is 500 without detail for the client, the cause kept for the log', () => {
    const cause = new TypeError('x is undefined');
    const e = storeErrorToHttp(cause);
    assert.equal(e.status, 500);
    assert.equal(e.message, 'internal error');
    assert.equal(e.cause, cause);
  });
});
