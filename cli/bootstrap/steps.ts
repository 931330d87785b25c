// What a bootstrap plan is made of: files, directories and links to put in
// place, and actions on the host (packages, the service user, systemd). Each
// step reports whether it changed anything, so a second run can say that
// nothing did.
import type { BootstrapOptions } from './options';

export type StepStatus = 'created' | 'changed' | 'unchanged' | 'skipped';

export interface StepOutcome {
  status: StepStatus;
  /** Shown after the status: why a step was skipped, what it would run, what it did. */
  note?: string;
}

export interface FileStep {
  kind: 'file';
  /** The path on the node; under --root it is written below the root. */
  path: string;
  mode: number;
  /** The wanted content, or a function of what earlier steps put in place (a public key from its private key). */
  content: string | ((effective: (path: string) => string | undefined) => string);
  /** Never printed, in any form. */
  secret?: boolean;
  /** Written only when missing: generated keys and seeds the mesh rewrites later. */
  keepExisting?: boolean;
  /** With keepExisting: whether what is there still fits (a token that pins the current root); if not, it is replaced. */
  keepIf?: (existing: string) => boolean;
  /** Rewritten anyway when this earlier path changed in the same run (a certificate when its key is new). */
  renewWith?: string;
  /** The verb of its progress line; `writing` by default. */
  verb?: string;
}

export interface DirStep {
  kind: 'dir';
  path: string;
  mode: number;
}

export interface LinkStep {
  kind: 'link';
  path: string;
  target: string;
  verb?: string;
}

export interface ActionContext {
  opts: BootstrapOptions;
  /** Paths (node paths) that this run created or changed, for restarts. */
  changedPaths: ReadonlySet<string>;
}

export interface ActionStep {
  kind: 'action';
  title: string;
  /** The command line(s) it runs, shown when it is skipped. */
  commands: string[];
  /** Why it does not run here (--root, --no-install, ...), or undefined to run. */
  skipReason(opts: BootstrapOptions): string | undefined;
  run(ctx: ActionContext): StepOutcome;
}

export type Step = FileStep | DirStep | LinkStep | ActionStep;
