// Turns zod issues into messages for people. The schemas give their own
// message for every constraint; this file covers what zod reports on its own
// (missing fields, wrong types, unknown fields, enums) and the path format:
// dots for keys, [i] for array indexes, e.g. spec.ports[0].port.
import { z } from 'zod/v4';

export interface IssueMessage {
  path: string;
  message: string;
}

const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && SIMPLE_KEY.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

// In the words of a YAML author: a list, not an array.
const TYPE_WORDS: Record<string, string> = {
  array: 'a list',
  object: 'an object',
  record: 'an object',
  integer: 'an integer',
  boolean: 'a boolean (true or false)',
};

function expectedType(type: string): string {
  return TYPE_WORDS[type] ?? `a ${type}`;
}

// The type of a value in the words the messages use (NaN, null, a list, ...).
function receivedType(value: unknown): string {
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'date';
  if (value instanceof Map) return 'map';
  if (value instanceof Set) return 'set';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

function quoteAll(values: ReadonlyArray<unknown>): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

// A value that is not one of an enum's values, which are listed in this order.
export function notOneOf(values: ReadonlyArray<unknown>, input: unknown): string {
  if (input === undefined) return 'required';
  // A value that is not a string is of the wrong type, not an unknown choice.
  if (typeof input !== 'string') return `must be a ${values.map((v) => `'${String(v)}'`).join(' | ')}, got ${receivedType(input)}`;
  return `must be one of ${quoteAll(values)}, got ${JSON.stringify(input)}`;
}

// Given to every parse: zod asks it only for issues that carry no message of
// their own. Each names what was expected and what was found, in plain words.
export const humanErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      return `must be ${expectedType(issue.expected)}, got ${receivedType(issue.input)}`;
    case 'invalid_value':
      if (issue.inst instanceof z.ZodLiteral && issue.input !== undefined) {
        return `must be ${JSON.stringify(issue.values[0])}, got ${JSON.stringify(issue.input)}`;
      }
      return notOneOf(issue.values, issue.input);
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${issue.minimum} entr${issue.minimum === 1 ? 'y' : 'ies'}`;
      if (issue.origin === 'string') return issue.minimum === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} entries`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return `must be at most ${issue.maximum}`;
    default:
      return undefined;
  }
};

// One message per problem: an object with two unknown fields gives two
// messages, each with the field's own path, so each names what to remove.
export function describeIssues(issues: ReadonlyArray<z.core.$ZodIssue>): IssueMessage[] {
  const out: IssueMessage[] = [];
  const seen = new Set<string>();
  const add = (path: ReadonlyArray<PropertyKey>, message: string) => {
    const entry = { path: formatPath(path), message };
    const key = `${entry.path}\n${entry.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(entry);
    }
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add([...issue.path, key], `unknown field '${key}'`);
    } else {
      add(issue.path, issue.message);
    }
  }
  return out;
}
