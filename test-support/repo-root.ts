// The repository root and bin/meridian, for tests, harnesses and benches:
// found from this file's place, in the sources or under dist/.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

export const MERIDIAN_BIN = (): string => path.join(repoRoot(), 'bin', 'meridian');
