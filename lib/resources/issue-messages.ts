// Turns zod issues into messages for people. The schemas give their own
// message for every constraint; this file covers what zod reports on its own
// (missing fields, wrong types, unknown fields, enums) and the path format:
// dots for keys, [i] for array indexes, e.g. spec.ports[0].port.
import { z } from 'zod';

export interface IssueMessage {
  path: string;
  message: string;
}

const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (SIMPLE_KEY.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

// In the words of a YAML author: a list, not an array.
const TYPE_WORDS: Record<string, string> = {
  array: 'a list',
  object: 'an object',
  integer: 'an integer',
  boolean: 'a boolean (true or false)',
};

function expectedType(type: string): string {
  return TYPE_WORDS[type] ?? `a ${type}`;
}

function receivedType(received: string): string {
  if (received === 'nan') return 'NaN';
  if (received === 'array') return 'a list';
  if (received === 'object') return 'an object';
  return received;
}

function quoteAll(values: ReadonlyArray<unknown>): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

// Used as the contextual error map of every parse: zod only asks it for issues
// that carry no message of their own.
export const humanErrorMap: z.ZodErrorMap = (issue, ctx) => {
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      if (issue.received === z.ZodParsedType.undefined) return { message: 'required' };
      return { message: `must be ${expectedType(issue.expected)}, got ${receivedType(issue.received)}` };
    case z.ZodIssueCode.invalid_literal:
      if (ctx.data === undefined) return { message: 'required' };
      return { message: `must be ${JSON.stringify(issue.expected)}, got ${JSON.stringify(ctx.data)}` };
    case z.ZodIssueCode.invalid_enum_value:
      return { message: `must be one of ${quoteAll(issue.options)}, got ${JSON.stringify(issue.received)}` };
    case z.ZodIssueCode.invalid_union_discriminator:
      return { message: `must be one of ${quoteAll(issue.options)}` };
    case z.ZodIssueCode.unrecognized_keys:
      return { message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}` };
    case z.ZodIssueCode.too_small:
      if (issue.type === 'array') return { message: `needs at least ${issue.minimum} entr${issue.minimum === 1 ? 'y' : 'ies'}` };
      if (issue.type === 'string') return { message: issue.minimum === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters` };
      return { message: `must be at least ${issue.minimum}` };
    case z.ZodIssueCode.too_big:
      if (issue.type === 'array') return { message: `must have at most ${issue.maximum} entries` };
      if (issue.type === 'string') return { message: `must be at most ${issue.maximum} characters` };
      return { message: `must be at most ${issue.maximum}` };
    default:
      return { message: ctx.defaultError };
  }
};

// One message per problem: an object with two unknown fields gives two
// messages, each with the field's own path, so each names what to remove.
export function describeIssues(issues: ReadonlyArray<z.ZodIssue>): IssueMessage[] {
  const out: IssueMessage[] = [];
  const seen = new Set<string>();
  const add = (path: ReadonlyArray<string | number>, message: string) => {
    const entry = { path: formatPath(path), message };
    const key = `${entry.path}\n${entry.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(entry);
    }
  };
  for (const issue of issues) {
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      for (const key of issue.keys) add([...issue.path, key], `unknown field '${key}'`);
    } else {
      add(issue.path, issue.message);
    }
  }
  return out;
}
