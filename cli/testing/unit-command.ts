// The command lines of a unit that `meridian bootstrap --root DIR` wrote,
// resolved the way systemd would run them, without systemd: words split as
// systemd splits them (quotes, `$$` for a literal `$`), ${VAR} taken from the
// unit's EnvironmentFile, %d the unit's credentials directory (LoadCredential=
// files copied there, 0400, as systemd does), and the node's own paths
// (/etc/meridian, /var/lib/meridian, /run/meridian-bird, which --root put
// under DIR) under DIR. Nothing else of a line is changed. Tests use it to run
// the units' programs (netns-tests/bootstrap.test.ts) and to feed their argv
// to each part's option parser (cli/bootstrap/unit-argv.test.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';

export type ExecKey = 'ExecStartPre' | 'ExecStart' | 'ExecStartPost';

export interface UnitCommand {
  key: ExecKey;
  argv: string[];
  /** The line as written in the unit (without its prefix). */
  line: string;
  /** `-` prefix: systemd ignores the command's failure. */
  ignoreFailure: boolean;
}

export interface ResolvedUnit {
  /** In the order systemd runs them: ExecStartPre, ExecStart, ExecStartPost. */
  commands: UnitCommand[];
  env: Record<string, string>;
  credentialsDir: string;
}

const NODE_PATHS = ['/etc/meridian', '/var/lib/meridian', '/run/meridian-bird'];
const EXEC_KEYS: ExecKey[] = ['ExecStartPre', 'ExecStart', 'ExecStartPost'];

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

/** Splits a command line into words as systemd does: whitespace, '...' and "..." with backslash escapes. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}

function expandWord(word: string, env: Record<string, string>, credentialsDir: string, where: string): string[] {
  const lone = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
  if (lone) return (env[lone[1]!] ?? '').split(/\s+/).filter(Boolean);
  const expanded = word
    .replace(/%%|%d/g, (s) => (s === '%%' ? '%' : credentialsDir))
    .replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (s, name: string | undefined) => {
      if (s === '$$') return '$';
      if (env[name!] === undefined) throw new Error(`${where}: \${${name}} is not set by its EnvironmentFile`);
      return env[name!]!;
    });
  return [expanded];
}

export function resolveUnit(root: string, unitName: string): ResolvedUnit {
  const unit = fs.readFileSync(path.join(root, 'etc/systemd/system', unitName), 'utf8');
  const env: Record<string, string> = {};
  for (const file of entries(unit, 'EnvironmentFile')) Object.assign(env, readEnvFile(fs.readFileSync(underRoot(root, file.replace(/^-/, '')), 'utf8')));
  for (const assignment of entries(unit, 'Environment')) {
    for (const word of splitCommandLine(assignment)) {
      const eq = word.indexOf('=');
      if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }

  const credentialsDir = path.join(root, 'run/credentials', unitName);
  fs.mkdirSync(credentialsDir, { recursive: true, mode: 0o700 });
  for (const spec of entries(unit, 'LoadCredential')) {
    const colon = spec.indexOf(':');
    const target = path.join(credentialsDir, spec.slice(0, colon));
    fs.rmSync(target, { force: true });
    fs.copyFileSync(underRoot(root, spec.slice(colon + 1)), target);
    fs.chmodSync(target, 0o400);
  }

  const commands: UnitCommand[] = [];
  for (const key of EXEC_KEYS) {
    for (const raw of entries(unit, key)) {
      const prefix = /^[-@:+!]*/.exec(raw)![0];
      const line = raw.slice(prefix.length);
      const argv = splitCommandLine(line).flatMap((w) => expandWord(w, env, credentialsDir, unitName)).map((w) => underRoot(root, w));
      commands.push({ key, argv, line, ignoreFailure: prefix.includes('-') });
    }
  }
  return { commands, env, credentialsDir };
}

/** The one ExecStart of a long-running unit. */
export function unitCommand(root: string, unitName: string): { argv: string[]; execStart: string; credentialsDir: string } {
  const resolved = resolveUnit(root, unitName);
  const starts = resolved.commands.filter((c) => c.key === 'ExecStart');
  if (starts.length !== 1) throw new Error(`${unitName}: expected exactly one ExecStart, found ${starts.length}`);
  return { argv: starts[0]!.argv, execStart: starts[0]!.line, credentialsDir: resolved.credentialsDir };
}
