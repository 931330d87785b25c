import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MESH_TLS_SERVER_NAME, meshChannelOptions } from './mesh-credentials';

describe('meshChannelOptions', () => {
  it('names the TLS server by a fixed name when the address is an IP (Node warns of an IP as server name)', () => {
    const fixed = { 'grpc.ssl_target_name_override': MESH_TLS_SERVER_NAME };
    assert.deepEqual(meshChannelOptions('127.0.0.1:7400'), fixed);
    assert.deepEqual(meshChannelOptions('10.99.0.2:7501'), fixed);
    assert.deepEqual(meshChannelOptions('[fd00::2]:7501'), fixed);
    assert.deepEqual(meshChannelOptions('fd00::2'), fixed);
  });

  it('leaves a host name as the server name', () => {
    assert.deepEqual(meshChannelOptions('global.example.net:7400'), {});
    assert.deepEqual(meshChannelOptions('localhost:7400'), {});
  });
});
