// Puts files, directories and links in place by comparing what is wanted with
// what is there: equal content and mode means nothing is written (the mtime
// stays), otherwise the file is replaced atomically (temporary file, then
// rename), so a reader never sees half a unit or half a key.
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
    const existing = readIfFile(target);
    const renew = step.renewWith !== undefined && this.written.has(step.renewWith);
    if (existing !== undefined && step.keepExisting && !renew && (step.keepIf?.(existing) ?? true)) {
      this.effective.set(step.path, existing);
      return this.fixMode(target, step.mode, 'kept');
    }
    const wanted = typeof step.content === 'string' ? step.content : step.content((p) => this.effective.get(p) ?? readIfFile(this.hostPath(p)));
    this.effective.set(step.path, wanted);
    if (existing === wanted) return this.fixMode(target, step.mode);
    if (!this.dryRun) writeAtomically(target, wanted, step.mode);
    this.written.add(step.path);
    return { status: existing === undefined ? 'created' : 'changed' };
  }

  applyDir(step: DirStep): StepOutcome {
    const target = this.hostPath(step.path);
    const stat = statOrUndefined(target);
    if (stat?.isDirectory()) return this.fixMode(target, step.mode);
    if (stat) throw new Error(`${step.path} exists and is not a directory`);
    if (!this.dryRun) {
      fs.mkdirSync(target, { recursive: true, mode: step.mode });
      fs.chmodSync(target, step.mode);
    }
    return { status: 'created' };
  }

  applyLink(step: LinkStep): StepOutcome {
    const target = this.hostPath(step.path);
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

  private fixMode(target: string, mode: number, note?: string): StepOutcome {
    const current = fs.statSync(target).mode & 0o7777;
    if (current === mode) return { status: 'unchanged', note };
    if (!this.dryRun) fs.chmodSync(target, mode);
    return { status: 'changed', note: `mode ${octal(current)} -> ${octal(mode)}` };
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
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
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
    return fs.readFileSync(p, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}
