// The Debian packages a node's role needs, installed with apt only when one
// is missing, so a second run does not touch apt at all.
import { runCommand, tryCommand } from './host-command';
import type { BootstrapOptions } from './options';
import type { ActionStep } from './steps';

export function packagesFor(opts: BootstrapOptions): string[] {
  // Node and Meridian itself are installed before bootstrap runs (cloud-init).
  return opts.role === 'region' ? ['wireguard-tools', 'bird2', 'iproute2'] : ['etcd-server'];
}

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

export function packagesStep(opts: BootstrapOptions): ActionStep {
  const packages = packagesFor(opts);
  const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...packages];
  return {
    kind: 'action',
    title: `installing packages ${packages.join(' ')}`,
    commands: ['apt-get update', install.join(' ')],
    skipReason: (o) => (o.underRoot ? '--root' : o.dryRun ? '--dry-run' : !o.install ? '--no-install' : undefined),
    run: () => {
      const missing = packages.filter((p) => tryCommand(['dpkg-query', '-W', '-f=${db:Status-Status}', p]).stdout !== 'installed');
      if (missing.length === 0) return { status: 'unchanged' };
      runCommand(['apt-get', 'update'], APT_ENV);
      runCommand(['apt-get', 'install', '-y', '--no-install-recommends', ...missing], APT_ENV);
      return { status: 'changed', note: `installed ${missing.join(' ')}` };
    },
  };
}
