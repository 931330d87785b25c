// Runs a bootstrap plan: each step in order, printing as it goes. Files are
// compared with what is there, so a second run changes nothing and says so.
import { FileApplier } from './apply-files';
import { DATA_KEY_FILE, PORTS, PROXY_TOKEN_FILE, TOKENS_FILE, WIREGUARD_PUBLIC_KEY } from './layout';
import type { BootstrapOptions } from './options';
import { buildPlan } from './plan';
import { Progress } from './progress';
import type { Step, StepOutcome } from './steps';

export function bootstrap(opts: BootstrapOptions, write: (line: string) => void): void {
  const plan = buildPlan(opts);
  const files = new FileApplier(opts.root, opts.dryRun);
  const progress = new Progress(plan.length, opts.dryRun, write);
  const changedPaths = new Set<string>();

  write(header(opts));
  for (const step of plan) {
    const outcome = runStep(step, files, opts, changedPaths);
    if (step.kind !== 'action' && (outcome.status === 'created' || outcome.status === 'changed')) changedPaths.add(step.path);
    progress.step(step, outcome);
  }
  write(progress.summary());
  for (const line of footer(opts, files)) write(line);
}

function runStep(step: Step, files: FileApplier, opts: BootstrapOptions, changedPaths: ReadonlySet<string>): StepOutcome {
  switch (step.kind) {
    case 'file':
      return files.applyFile(step);
    case 'dir':
      return files.applyDir(step);
    case 'link':
      return files.applyLink(step);
    case 'action': {
      const reason = step.skipReason(opts);
      if (reason !== undefined) return { status: 'skipped', note: `${reason}; would run: ${step.commands.join(' && ')}` };
      return step.run({ opts, changedPaths });
    }
  }
}

function header(opts: BootstrapOptions): string {
  const what = opts.role === 'region' ? `region node ${opts.nodeName} of region ${opts.region}` : `global node ${opts.nodeName}`;
  const where = opts.underRoot ? ` under ${opts.root} (no packages, no services: files only)` : '';
  return `meridian bootstrap: ${what}${where}${opts.dryRun ? ', dry run' : ''}`;
}

// What an operator needs next. Only the public key leaves the node.
function footer(opts: BootstrapOptions, files: FileApplier): string[] {
  if (opts.role === 'region') {
    if (opts.dryRun) return [];
    const key = readTrimmed(files, WIREGUARD_PUBLIC_KEY);
    return [
      ...(key ? [`wireguard public key: ${key}`] : []),
      `proxy token: in ${PROXY_TOKEN_FILE} (mode 0600, root only; not shown), pinning the mesh root ${opts.rootFingerprint}: discovery between the zone controller and its edge and ingress runs mTLS`,
    ];
  }
  return [
    `admin token: in ${TOKENS_FILE} (mode 0600, root only; not shown)`,
    // The root is made at the controller's first start: on this node, over loopback, or from its log.
    `admin API: https://<this node>:${PORTS.admin} (certificate from the mesh root; pin it: meridian --ca-fingerprint, from \`curl -s -H "authorization: Bearer $TOKEN" http://127.0.0.1:${PORTS.adminLocal}/v1/ca\` on this node, or "rootFingerprint" in the global controller's log), plaintext http://127.0.0.1:${PORTS.adminLocal} on this node only`,
    opts.dataKey === undefined
      ? `data key: in ${DATA_KEY_FILE} (mode 0600, root only; not shown); every global node needs this same key: copy it to the others and give it to their bootstrap with --data-key-file`
      : `data key: in ${DATA_KEY_FILE} (mode 0600, root only; not shown), from --data-key-file`,
  ];
}

function readTrimmed(files: FileApplier, nodePath: string): string | undefined {
  try {
    return files.read(nodePath)?.trim();
  } catch {
    return undefined;
  }
}
