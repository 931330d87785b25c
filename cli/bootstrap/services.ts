// The host actions around the files: create the service user, then have
// systemd pick up the units, enable them and (re)start what changed. Each
// checks first, so running bootstrap again on a healthy node does nothing.
import { runCommand, tryCommand } from './host-command';
import { SERVICE_USER, SYSUSERS_FILE, UNIT_DIR } from './layout';
import type { BootstrapOptions } from './options';
import type { ActionStep } from './steps';

function hostActionSkip(opts: BootstrapOptions): string | undefined {
  return opts.underRoot ? '--root' : opts.dryRun ? '--dry-run' : undefined;
}

export function serviceUserStep(): ActionStep {
  return {
    kind: 'action',
    title: `creating the ${SERVICE_USER} user`,
    commands: [`systemd-sysusers ${SYSUSERS_FILE}`],
    // Only the units need the user: files-only runs leave /etc/passwd alone.
    skipReason: (opts) => hostActionSkip(opts) ?? (!opts.start ? '--no-start' : undefined),
    run: () => {
      if (tryCommand(['getent', 'passwd', SERVICE_USER]).code === 0) return { status: 'unchanged' };
      runCommand(['systemd-sysusers', SYSUSERS_FILE]);
      return { status: 'created' };
    },
  };
}

/**
 * `units` are started in the order given; `masked` distribution units are
 * stopped (their unit files are links to /dev/null by now); a unit restarts
 * when any of the paths it reads changed in this run.
 */
export function servicesStep(units: Array<{ name: string; reads: string[] }>, masked: string[]): ActionStep {
  const names = units.map((u) => u.name);
  return {
    kind: 'action',
    title: `starting ${names.join(' ')}`,
    commands: ['systemctl daemon-reload', `systemctl enable --now ${names.join(' ')}`],
    skipReason: (opts) => hostActionSkip(opts) ?? (!opts.start ? '--no-start' : undefined),
    run: ({ changedPaths }) => {
      const done: string[] = [];
      const unitFilesChanged = [...changedPaths].some((p) => p.startsWith(`${UNIT_DIR}/`));
      if (unitFilesChanged) {
        runCommand(['systemctl', 'daemon-reload']);
        done.push('reloaded systemd');
      }
      const running = masked.filter((m) => tryCommand(['systemctl', 'is-active', '--quiet', m]).code === 0);
      if (running.length > 0) {
        runCommand(['systemctl', 'stop', ...running]);
        done.push(`stopped ${running.join(' ')}`);
      }
      const toEnable = names.filter((n) => tryCommand(['systemctl', 'is-enabled', '--quiet', n]).code !== 0);
      if (toEnable.length > 0) {
        runCommand(['systemctl', 'enable', ...toEnable]);
        done.push(`enabled ${toEnable.join(' ')}`);
      }
      const toRestart = units.filter((u) => u.reads.some((p) => changedPaths.has(p))).map((u) => u.name);
      const toStart = names.filter((n) => !toRestart.includes(n) && tryCommand(['systemctl', 'is-active', '--quiet', n]).code !== 0);
      if (toRestart.length > 0) {
        runCommand(['systemctl', 'restart', ...toRestart]);
        done.push(`restarted ${toRestart.join(' ')}`);
      }
      if (toStart.length > 0) {
        runCommand(['systemctl', 'start', ...toStart]);
        done.push(`started ${toStart.join(' ')}`);
      }
      return done.length === 0 ? { status: 'unchanged' } : { status: 'changed', note: done.join('; ') };
    },
  };
}
