// Loads the .proto contracts at run time with the same options the type
// generator used (scripts/gen-proto-types.js), so values match their types.
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as FederationProto } from '../../proto/generated/federation';
import type { ProtoGrpcType as DiscoveryProto } from '../../proto/generated/discovery';

export const PROTO_LOAD_OPTIONS: protoLoader.Options = {
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

// dist/lib/grpc -> repository root, or lib/grpc when run from source.
function protoRoot(): string {
  for (const up of ['../../..', '../..']) {
    const dir = path.resolve(__dirname, up, 'proto');
    if (fs.existsSync(path.join(dir, 'meridian'))) return dir;
  }
  throw new Error(`proto directory not found from ${__dirname}`);
}

function load<T>(file: string): T {
  const root = protoRoot();
  const def = protoLoader.loadSync(path.join(root, file), { ...PROTO_LOAD_OPTIONS, includeDirs: [root] });
  return grpc.loadPackageDefinition(def) as unknown as T;
}

let federation: FederationProto | undefined;
let discovery: DiscoveryProto | undefined;

export function federationProto(): FederationProto {
  return (federation ??= load<FederationProto>('meridian/federation/v1/federation.proto'));
}

export function discoveryProto(): DiscoveryProto {
  return (discovery ??= load<DiscoveryProto>('meridian/discovery/v1/discovery.proto'));
}
