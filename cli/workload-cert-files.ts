// Writes a workload's certificate files into a directory: cert.pem (the
// chain), key.pem (0600) and ca.pem (the mesh roots). Each file is written
// to a new temporary file (O_EXCL, O_NOFOLLOW: never through a link an
// attacker left there), with its final mode from the start, then renamed
// over the old one, so a renewal replaces files that a reader sees whole.
// The key is written first and the chain last: a workload that reloads on
// cert.pem's change finds the key that goes with it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface WorkloadCertFiles {
  cert: string;
  key: string;
  ca: string;
}

export function workloadCertFiles(dir: string): WorkloadCertFiles {
  return { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), ca: path.join(dir, 'ca.pem') };
}

export function writeWorkloadCertFiles(dir: string, material: { keyPem: string; chainPem: string; trustBundle: string[] }): WorkloadCertFiles {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = workloadCertFiles(dir);
  replaceFile(files.key, material.keyPem, 0o600);
  replaceFile(files.ca, material.trustBundle.join(''), 0o644);
  replaceFile(files.cert, material.chainPem, 0o644);
  return files;
}

function replaceFile(target: string, content: string, mode: number): void {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  try {
    try {
      fs.writeSync(fd, content);
      fs.fchmodSync(fd, mode); // whatever the umask took away
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // rename replaces a link at the target, never the file it points to.
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
