// A Terraform module (one directory of .tf files) as the checks see it: what
// it declares (variables, outputs, locals, resources, data sources, module
// calls, provider configurations) and every expression in it, each with the
// names bound where it sits (dynamic block iterators).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { parseHcl } from './hcl';

export interface Site {
  file: string;
  /** Where the expression is, for messages: `resource aws_instance.node`. */
  where: string;
  expr: string;
  bound: ReadonlySet<string>;
}

export interface VariableDecl {
  file: string;
  required: boolean;
}

export interface ModuleCall {
  name: string;
  file: string;
  source: string;
  inputs: string[];
  /** Child provider name => this module's provider reference (aws => aws.fra). */
  providers: Record<string, string>;
}

export interface ProviderRef {
  file: string;
  where: string;
  ref: string;
}

export interface TfModule {
  dir: string;
  files: string[];
  variables: Map<string, VariableDecl>;
  outputs: Map<string, string>;
  locals: Map<string, string>;
  resources: Map<string, string>;
  data: Map<string, string>;
  modules: Map<string, ModuleCall>;
  /** `aws` for a default configuration, `aws.fra` for an alias, from provider blocks and configuration_aliases. */
  providerConfigs: Set<string>;
  requiredProviders: Set<string>;
  sites: Site[];
  providerRefs: ProviderRef[];
  duplicates: Array<{ file: string; message: string }>;
}

type Body = Record<string, unknown>;

const MODULE_META = new Set(['source', 'version', 'providers', 'count', 'for_each', 'depends_on']);

export async function loadModule(dir: string): Promise<TfModule> {
  const mod: TfModule = {
    dir,
    files: [],
    variables: new Map(),
    outputs: new Map(),
    locals: new Map(),
    resources: new Map(),
    data: new Map(),
    modules: new Map(),
    providerConfigs: new Set(),
    requiredProviders: new Set(),
    sites: [],
    providerRefs: [],
    duplicates: [],
  };
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.tf')).sort();
  for (const name of files) {
    const file = path.join(dir, name);
    mod.files.push(file);
    addFile(mod, file, await parseHcl(file, fs.readFileSync(file, 'utf8')));
  }
  return mod;
}

function declare(mod: TfModule, map: Map<string, string>, kind: string, name: string, file: string): void {
  if (map.has(name)) mod.duplicates.push({ file, message: `${kind} "${name}" is declared twice (also in ${path.basename(map.get(name)!)})` });
  map.set(name, file);
}

function addFile(mod: TfModule, file: string, doc: Body): void {
  for (const [name, bodies] of labelled(doc.variable)) {
    if (mod.variables.has(name)) mod.duplicates.push({ file, message: `variable "${name}" is declared twice` });
    const body = bodies[0] ?? {};
    mod.variables.set(name, { file, required: !('default' in body) });
    // A type constraint (list(string)) is not an expression of values.
    collect(mod, file, `variable ${name}`, omit(body, ['type', 'default']));
  }
  for (const [name, bodies] of labelled(doc.output)) {
    declare(mod, mod.outputs, 'output', name, file);
    collect(mod, file, `output ${name}`, bodies);
  }
  for (const block of asArray(doc.locals)) {
    for (const [name, value] of Object.entries(block as Body)) {
      declare(mod, mod.locals, 'local', name, file);
      collect(mod, file, `local.${name}`, value);
    }
  }
  for (const [kind, map, prefix] of [
    ['resource', mod.resources, ''],
    ['data', mod.data, 'data.'],
  ] as const) {
    for (const [type, byName] of Object.entries((doc[kind] as Body | undefined) ?? {})) {
      for (const [name, bodies] of labelled(byName)) {
        const where = `${kind} ${prefix}${type}.${name}`;
        declare(mod, map, kind, `${type}.${name}`, file);
        for (const body of bodies) {
          if (typeof body.provider === 'string') mod.providerRefs.push({ file, where, ref: unwrap(body.provider) });
          collect(mod, file, where, omit(body, ['provider']));
        }
      }
    }
  }
  for (const [name, bodies] of labelled(doc.module)) {
    const body = bodies[0] ?? {};
    if (mod.modules.has(name)) mod.duplicates.push({ file, message: `module "${name}" is declared twice` });
    const providers: Record<string, string> = {};
    for (const [child, ref] of Object.entries((body.providers as Body | undefined) ?? {})) providers[child] = unwrap(String(ref));
    mod.modules.set(name, {
      name,
      file,
      source: String(body.source ?? ''),
      inputs: Object.keys(body).filter((k) => !MODULE_META.has(k)),
      providers,
    });
    for (const ref of Object.values(providers)) mod.providerRefs.push({ file, where: `module "${name}"`, ref });
    collect(mod, file, `module "${name}"`, omit(body, ['source', 'version', 'providers']));
  }
  for (const [name, bodies] of labelled(doc.provider)) {
    for (const body of bodies) {
      mod.providerConfigs.add(typeof body.alias === 'string' ? `${name}.${body.alias}` : name);
      collect(mod, file, `provider ${name}`, omit(body, ['alias']));
    }
  }
  for (const block of asArray(doc.terraform)) {
    for (const required of asArray((block as Body).required_providers)) {
      for (const [name, spec] of Object.entries(required as Body)) {
        mod.requiredProviders.add(name);
        for (const alias of asArray((spec as Body | undefined)?.configuration_aliases)) mod.providerConfigs.add(unwrap(String(alias)));
      }
    }
  }
  for (const [name, bodies] of labelled(doc.check)) collect(mod, file, `check ${name}`, bodies);
}

// Walks a block body (or any value in it) and records every expression.
function collect(mod: TfModule, file: string, where: string, value: unknown, bound: ReadonlySet<string> = new Set()): void {
  if (typeof value === 'string') {
    if (value.includes('${') || value.includes('%{')) mod.sites.push({ file, where, expr: value, bound });
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collect(mod, file, where, item, bound);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value as Body)) {
    if (key === 'dynamic') {
      // dynamic "name" { for_each = ...; iterator = it; content { it.value } }
      for (const [label, bodies] of labelled(inner)) {
        for (const body of bodies) {
          const iterator = typeof body.iterator === 'string' ? unwrap(body.iterator) : label;
          collect(mod, file, where, body.for_each, bound);
          collect(mod, file, where, omit(body, ['for_each', 'iterator']), new Set([...bound, iterator]));
        }
      }
      continue;
    }
    // ignore_changes names attributes of the resource, not values.
    if (key === 'lifecycle') {
      collect(mod, file, where, asArray(inner).map((l) => omit(l as Body, ['ignore_changes'])), bound);
      continue;
    }
    collect(mod, file, where, inner, bound);
  }
}

function labelled(value: unknown): Array<[string, Body[]]> {
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value as Body).map(([name, bodies]) => [name, asArray(bodies) as Body[]]);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function omit(body: Body, keys: string[]): Body {
  return Object.fromEntries(Object.entries(body).filter(([k]) => !keys.includes(k)));
}

/** `${aws.fra}` => `aws.fra` */
function unwrap(s: string): string {
  const m = /^\$\{(.*)\}$/s.exec(s.trim());
  return (m ? m[1]! : s).trim();
}
