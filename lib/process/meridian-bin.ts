// Where bin/meridian is, from source or from dist/, so one part can start
// another as a real process.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function meridianBin(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const bin = path.join(dir, 'bin', 'meridian');
    if (fs.existsSync(bin) && fs.existsSync(path.join(dir, 'package.json'))) return bin;
    if (path.dirname(dir) === dir) throw new Error(`bin/meridian not found above ${__dirname}`);
  }
}
