#!/usr/bin/env node
// Generates TypeScript types for every .proto under proto/ into proto/generated/.
// The .proto files are the one source of the wire format; the types follow them.
// The load options here must match lib/grpc/protos.ts.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const protoDir = path.join(root, 'proto');
const outDir = path.join(protoDir, 'generated');

function protoFiles(dir, rel = '') {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : protoFiles(dir, r);
    return e.name.endsWith('.proto') ? [r] : [];
  });
}

fs.rmSync(outDir, { recursive: true, force: true });
const bin = path.join(root, 'node_modules', '.bin', 'proto-loader-gen-types');
// File names go first: --includeDirs takes an array and would swallow them.
execFileSync(bin, [
  ...protoFiles(protoDir),
  '--longs=Number', '--enums=String', '--defaults', '--oneofs',
  '--grpcLib=@grpc/grpc-js', `--outDir=${outDir}`, `--includeDirs=${protoDir}`,
], { stdio: 'inherit' });
