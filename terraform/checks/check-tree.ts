// Checks every Terraform module under a directory (terraform/ in this
// repository) without a terraform binary: each .tf file parses, each module
// follows rules.ts, and each .tfvars file sets only variables its directory
// declares. Run it directly to see the problems:
//   node dist/terraform/checks/check-tree.js [DIR]
import * as fs from 'node:fs';
import * as path from 'node:path';

import { parseHcl } from './hcl';
import { loadModule, type TfModule } from './module-model';
import { checkModule, isLocalSource, type Problem } from './rules';

const SKIP_DIRS = new Set(['node_modules', '.terraform', 'checks']);

export interface TreeReport {
  modules: string[];
  tfvars: string[];
  problems: Problem[];
}

export async function checkTerraformTree(root: string): Promise<TreeReport> {
  const cache = new Map<string, Promise<TfModule>>();
  const load = (dir: string) => {
    const key = path.resolve(dir);
    if (!cache.has(key)) cache.set(key, loadModule(key));
    return cache.get(key)!;
  };
  const report: TreeReport = { modules: [], tfvars: [], problems: [] };
  for (const dir of moduleDirs(root)) {
    report.modules.push(dir);
    let mod: TfModule;
    try {
      mod = await load(dir);
    } catch (err) {
      // A file that does not parse: the parser's message names file and line.
      report.problems.push({ file: dir, message: firstLine(err) });
      continue;
    }
    const problems = await checkModule(mod, async (parent, call) => (isLocalSource(call.source) ? load(path.resolve(parent.dir, call.source)) : undefined));
    report.problems.push(...problems);
    for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.tfvars')).sort()) {
      const file = path.join(dir, name);
      report.tfvars.push(file);
      report.problems.push(...(await checkTfvars(file, mod)));
    }
  }
  for (const p of report.problems) p.file = path.relative(root, p.file) || '.';
  return report;
}

// A .tfvars file may set only variables of the configuration beside it.
async function checkTfvars(file: string, mod: TfModule): Promise<Problem[]> {
  let values: Record<string, unknown>;
  try {
    values = await parseHcl(file, fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return [{ file, message: firstLine(err) }];
  }
  return Object.keys(values)
    .filter((name) => !mod.variables.has(name))
    .map((name) => ({ file, message: `sets "${name}", which is not a variable of ${path.basename(mod.dir)}` }));
}

export function moduleDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name.endsWith('.tf'))) out.push(dir);
    for (const e of entries) if (e.isDirectory() && !SKIP_DIRS.has(e.name)) walk(path.join(dir, e.name));
  };
  walk(root);
  return out.sort();
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

if (require.main === module) {
  const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..', '..', '..', 'terraform'));
  checkTerraformTree(root).then(
    (report) => {
      for (const p of report.problems) process.stderr.write(`${p.file}: ${p.message}\n`);
      process.stdout.write(`${report.modules.length} modules, ${report.tfvars.length} tfvars files, ${report.problems.length} problems\n`);
      process.exitCode = report.problems.length ? 1 : 0;
    },
    (err) => {
      process.stderr.write(`error: ${firstLine(err)}\n`);
      process.exitCode = 1;
    },
  );
}
