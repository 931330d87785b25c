// Runs a unit that `meridian bootstrap --root DIR` wrote the way systemd
// would run it, without systemd: the ExecStart line with ${VAR} taken from
// its EnvironmentFile, %d the unit's credentials directory (LoadCredential=
// files copied there, 0400, as systemd does), and the node's own paths
// (/etc/meridian, /var/lib/meridian, which --root put under DIR) under DIR.
// Nothing else of the line is changed.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface UnitCommand {
  argv: string[];
  // The line as written in the unit.
  execStart: string;
  credentialsDir: string;
}

const NODE_PATHS = ['/etc/meridian', '/var/lib/meridian', '/run/meridian-bird'];

function entries(unit: string, key: string): string[] {
  return unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1).trim());
}

export function readEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

const underRoot = (root: string, p: string): string => (NODE_PATHS.some((n) => p === n || p.startsWith(`${n}/`)) ? path.join(root, p) : p);

export function unitCommand(root: string, unitName: string): UnitCommand {
  const unit = fs.readFileSync(path.join(root, 'etc/systemd/system', unitName), 'utf8');
  const [execStart, ...more] = entries(unit, 'ExecStart');
  if (execStart === undefined || more.length > 0) throw new Error(`${unitName}: expected exactly one ExecStart`);
  const env: Record<string, string> = {};
  for (const file of entries(unit, 'EnvironmentFile')) Object.assign(env, readEnvFile(fs.readFileSync(underRoot(root, file.replace(/^-/, '')), 'utf8')));

  const credentialsDir = path.join(root, 'run/credentials', unitName);
  fs.mkdirSync(credentialsDir, { recursive: true, mode: 0o700 });
  for (const spec of entries(unit, 'LoadCredential')) {
    const colon = spec.indexOf(':');
    const id = spec.slice(0, colon);
    const target = path.join(credentialsDir, id);
    fs.copyFileSync(underRoot(root, spec.slice(colon + 1)), target);
    fs.chmodSync(target, 0o400);
  }

  const argv = execStart.split(/\s+/).map((word) => {
    const expanded = word
      .replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_, name: string) => {
        if (env[name] === undefined) throw new Error(`${unitName}: \${${name}} is not set by its EnvironmentFile`);
        return env[name]!;
      })
      .replace(/%d/g, credentialsDir);
    return underRoot(root, expanded);
  });
  return { argv, execStart, credentialsDir };
}
