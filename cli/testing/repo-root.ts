// The repository root, found from a compiled test's location (dist/cli/...)
// by walking up to the first package.json.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function findRepoRoot(from: string = __dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
