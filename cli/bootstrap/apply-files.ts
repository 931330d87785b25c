// Puts files, directories and links in place by comparing what is wanted with
// what is there: equal content and mode means nothing is written (the mtime
// stays), otherwise the file is replaced atomically (temporary file, then
// rename), so a reader never sees half a unit or half a key.
//
// Bootstrap runs as root and some of the directories it writes in belong to
// the service user (the state directories), so it never follows a symbolic
// link: no path component below the root may be one, files are opened with
// O_NOFOLLOW, and modes are set on the opened descriptor (fchmod), never by
// name. A link is refused with its path; a planted link cannot make root
// write, read or loosen the mode of the file it points to.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { DirStep, FileStep, LinkStep, StepOutcome } from './steps';

export class FileApplier {
  /** What each file holds once its step has run (or would hold, in a dry run). */
  private readonly effective = new Map<string, string>();
  private readonly written = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly dryRun: boolean,
  ) {}

  /** The path on this machine for a path on the node. */
  hostPath(nodePath: string): string {
    return path.join(this.root, nodePath);
  }

  applyFile(step: FileStep): StepOutcome {
    const target = this.hostPath(step.path);
    const existing = this.read(step.path);
    const renew = step.renewWith !== undefined && this.written.has(step.renewWith);
    if (existing !== undefined && step.keepExisting && !renew && (step.keepIf?.(existing) ?? true)) {
      this.effective.set(step.path, existing);
      return this.fixMode(target, step.mode, 'kept');
    }
    const wanted = typeof step.content === 'string' ? step.content : step.content((p) => this.effective.get(p) ?? this.read(p));
    this.effective.set(step.path, wanted);
    if (existing === wanted) return this.fixMode(target, step.mode);
    if (!this.dryRun) writeAtomically(target, wanted, step.mode);
    this.written.add(step.path);
    return { status: existing === undefined ? 'created' : 'changed' };
  }

  applyDir(step: DirStep): StepOutcome {
    const target = this.hostPath(step.path);
    this.refuseLinks(step.path, true);
    const stat = lstatOrUndefined(target);
    if (stat?.isDirectory()) return this.fixMode(target, step.mode);
    if (stat) throw new Error(`${step.path} exists and is not a directory`);
    if (!this.dryRun) {
      fs.mkdirSync(target, { recursive: true, mode: step.mode });
      withNoFollow(target, DIRECTORY, (fd) => fs.fchmodSync(fd, step.mode));
    }
    return { status: 'created' };
  }

  applyLink(step: LinkStep): StepOutcome {
    const target = this.hostPath(step.path);
    // The link itself is replaced (rename), never followed; its directories must be real.
    this.refuseLinks(step.path, false);
    const stat = lstatOrUndefined(target);
    if (stat?.isSymbolicLink() && fs.readlinkSync(target) === step.target) return { status: 'unchanged' };
    if (!this.dryRun) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const tmp = `${target}.meridian-tmp`;
      fs.rmSync(tmp, { force: true });
      fs.symlinkSync(step.target, tmp);
      fs.renameSync(tmp, target);
    }
    return { status: stat ? 'changed' : 'created' };
  }

  /** What a file on the node holds, undefined when it is not there; refuses links. */
  read(nodePath: string): string | undefined {
    this.refuseLinks(nodePath, true);
    return readIfFile(this.hostPath(nodePath));
  }

  // Every existing component of nodePath below the root (the last one only
  // with `last`) must not be a symbolic link.
  private refuseLinks(nodePath: string, last: boolean): void {
    const parts = nodePath.split('/').filter(Boolean);
    if (!last) parts.pop();
    let p = this.root;
    for (const part of parts) {
      p = path.join(p, part);
      const stat = lstatOrUndefined(p);
      if (stat === undefined) return;
      if (stat.isSymbolicLink()) throw new SymlinkRefusedError(p);
    }
  }

  private fixMode(target: string, mode: number, note?: string): StepOutcome {
    return withNoFollow(target, 0, (fd) => {
      const current = fs.fstatSync(fd).mode & 0o7777;
      if (current === mode) return { status: 'unchanged', note };
      if (!this.dryRun) fs.fchmodSync(fd, mode);
      return { status: 'changed', note: `mode ${octal(current)} -> ${octal(mode)}` };
    });
  }
}

export class SymlinkRefusedError extends Error {
  constructor(readonly path: string) {
    super(`${path} is a symbolic link: bootstrap never writes, reads or changes the mode through a link (it could point at any file on the machine); remove it and run bootstrap again`);
    this.name = 'SymlinkRefusedError';
  }
}

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = fs.constants;
const DIRECTORY = O_DIRECTORY;

// Opens path itself, never what a link there points to (ELOOP), without
// blocking on a FIFO, and only a regular file or (with O_DIRECTORY) a directory.
function withNoFollow<T>(target: string, flags: number, use: (fd: number) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(target, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new SymlinkRefusedError(target);
    throw err;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() && !stat.isDirectory()) throw new Error(`${target} is neither a regular file nor a directory; remove it and run bootstrap again`);
    return use(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

function writeAtomically(target: string, content: string, mode: number): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.meridian-tmp`;
  // Created with its final mode, so a secret is never readable by others,
  // not even for the moment before a chmod.
  fs.rmSync(tmp, { force: true });
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, mode);
  try {
    fs.writeSync(fd, content);
    fs.fchmodSync(fd, mode); // the umask may have taken bits away
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, target);
}

function readIfFile(p: string): string | undefined {
  try {
    return withNoFollow(p, 0, (fd) => fs.readFileSync(fd, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}
