// The rules a module must follow: everything it refers to exists (variables,
// locals, data sources, resources, modules and their outputs, provider
// configurations, template files and their variables), every module call
// passes only inputs the module declares and every input it requires, and no
// variable is declared for nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { templateAst } from './hcl';
import type { ModuleCall, TfModule } from './module-model';
import { collectRefs, templateVariables, type TemplateCall, type Traversal } from './references';

export interface Problem {
  file: string;
  message: string;
}

/** Loads the module a call points at, or undefined when its source is not a local path. */
export type ChildLoader = (parent: TfModule, call: ModuleCall) => Promise<TfModule | undefined>;

const BUILTIN_ROOTS = new Set(['path', 'terraform', 'count', 'each', 'self']);

export async function checkModule(mod: TfModule, loadChild: ChildLoader): Promise<Problem[]> {
  const problems: Problem[] = [...mod.duplicates];
  const children = new Map<string, TfModule | undefined>();
  for (const call of mod.modules.values()) {
    if (isLocalSource(call.source) && !hasTfFiles(path.resolve(mod.dir, call.source))) {
      problems.push({ file: call.file, message: `module "${call.name}": source "${call.source}" has no .tf files` });
      children.set(call.name, undefined);
      continue;
    }
    children.set(call.name, await loadChild(mod, call));
  }

  const usedVariables = new Set<string>();
  for (const site of mod.sites) {
    let refs;
    try {
      refs = collectRefs(await templateAst(site.file, site.expr), site.bound);
    } catch (err) {
      problems.push({ file: site.file, message: `${site.where}: cannot read ${JSON.stringify(site.expr)}: ${String(err).split('\n')[0]}` });
      continue;
    }
    for (const t of refs.traversals) {
      const problem = checkTraversal(mod, children, t);
      if (problem) problems.push({ file: site.file, message: `${site.where}: ${problem}` });
      // A variable used only by its own validation is still unused.
      if (t.segments[0] === 'var' && t.segments[1] && site.where !== `variable ${t.segments[1]}`) usedVariables.add(t.segments[1]);
    }
    for (const call of refs.templateCalls) problems.push(...(await checkTemplateCall(mod, call, site.file, site.where)));
  }
  for (const [name, decl] of mod.variables) {
    if (!usedVariables.has(name)) problems.push({ file: decl.file, message: `variable "${name}" is declared but never used` });
  }

  for (const call of mod.modules.values()) {
    const child = children.get(call.name);
    if (child) problems.push(...checkModuleCall(call, child));
  }
  for (const ref of mod.providerRefs) {
    if (!providerExists(mod, ref.ref)) problems.push({ file: ref.file, message: `${ref.where}: provider configuration "${ref.ref}" is not declared` });
  }
  return problems;
}

function checkTraversal(mod: TfModule, children: Map<string, TfModule | undefined>, t: Traversal): string | undefined {
  const [root, first, ...rest] = t.segments;
  const name = (s: string | null | undefined) => (typeof s === 'string' ? s : undefined);
  switch (root) {
    case 'var':
      return name(first) && !mod.variables.has(first!) ? `var.${first} is not a declared variable` : undefined;
    case 'local':
      return name(first) && !mod.locals.has(first!) ? `local.${first} is not a declared local value` : undefined;
    case 'data': {
      const type = name(first);
      const label = name(rest[0]);
      if (!type || !label) return `${t.text}: a data source reference needs a type and a name`;
      return mod.data.has(`${type}.${label}`) ? undefined : `data.${type}.${label} is not a declared data source`;
    }
    case 'module': {
      if (!name(first)) return undefined;
      if (!mod.modules.has(first!)) return `module.${first} is not a declared module`;
      const child = children.get(first!);
      // The output is the first name after the module's (skipping [index] for count/for_each).
      const output = rest.find((s): s is string => typeof s === 'string');
      if (child && output && !child.outputs.has(output)) return `module.${first}.${output}: module "${first}" has no output "${output}"`;
      return undefined;
    }
    default: {
      if (BUILTIN_ROOTS.has(root!)) return undefined;
      // Resource types are PROVIDER_TYPE: anything with an underscore and a name after it.
      if (root!.includes('_') || mod.resources.has(`${root}.${name(first)}`)) {
        if (!name(first)) return `${t.text}: a resource reference needs a type and a name`;
        return mod.resources.has(`${root}.${first}`) ? undefined : `${root}.${first} is not a declared resource`;
      }
      return `${t.text}: "${root}" is not something this module declares`;
    }
  }
}

function checkModuleCall(call: ModuleCall, child: TfModule): Problem[] {
  const problems: Problem[] = [];
  for (const input of call.inputs) {
    if (!child.variables.has(input)) problems.push({ file: call.file, message: `module "${call.name}": input "${input}" is not a variable of ${call.source}` });
  }
  for (const [name, decl] of child.variables) {
    if (decl.required && !call.inputs.includes(name)) problems.push({ file: call.file, message: `module "${call.name}": required input "${name}" (no default in ${call.source}) is not given` });
  }
  for (const provider of Object.keys(call.providers)) {
    const base = provider.split('.')[0]!;
    if (!child.requiredProviders.has(base) && !child.providerConfigs.has(provider)) {
      problems.push({ file: call.file, message: `module "${call.name}": passes provider "${provider}", which ${call.source} does not require` });
    }
  }
  return problems;
}

function providerExists(mod: TfModule, ref: string): boolean {
  if (mod.providerConfigs.has(ref)) return true;
  // A default (unaliased) configuration exists implicitly for a required provider.
  return !ref.includes('.') && mod.requiredProviders.has(ref);
}

// templatefile("${path.module}/FILE", { ... }): the file exists, every name
// it uses is passed, and everything passed is used.
async function checkTemplateCall(mod: TfModule, call: TemplateCall, file: string, where: string): Promise<Problem[]> {
  if (call.moduleRelativePath === undefined || call.keys === undefined) return [];
  const templateFile = path.join(mod.dir, call.moduleRelativePath);
  const name = call.moduleRelativePath;
  if (!fs.existsSync(templateFile)) return [{ file, message: `${where}: templatefile("${name}") does not exist` }];
  const used = templateVariables(await templateAst(templateFile, fs.readFileSync(templateFile, 'utf8')));
  const problems: Problem[] = [];
  for (const v of used) if (!call.keys.includes(v)) problems.push({ file, message: `${where}: ${name} uses "${v}", which templatefile() does not pass` });
  for (const k of call.keys) if (!used.has(k)) problems.push({ file, message: `${where}: templatefile() passes "${k}", which ${name} never uses` });
  return problems;
}

export function isLocalSource(source: string): boolean {
  return source.startsWith('./') || source.startsWith('../');
}

export function hasTfFiles(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((f) => f.endsWith('.tf'));
  } catch {
    return false;
  }
}
