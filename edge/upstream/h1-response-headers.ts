// Raw response headers ([name, value, ...] as the parser gives them) into
// the object the request pipeline takes, exactly as undici's parseHeaders
// builds it: names lowercased, a repeated name's values in an array in
// order, a single one (set-cookie too) a string; __proto__ an own property.
import type { IncomingHttpHeaders } from 'node:http';

export function parseResponseHeaders(raw: readonly string[]): IncomingHttpHeaders {
  const obj: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i].toLowerCase();
    const value = raw[i + 1];
    const prev = obj[key];
    if (prev === undefined || !Object.hasOwn(obj, key)) {
      if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
      else obj[key] = value;
    } else if (typeof prev !== 'string') {
      prev.push(value);
    } else if (key === '__proto__') {
      Object.defineProperty(obj, key, { value: [prev, value], enumerable: true, configurable: true, writable: true });
    } else {
      obj[key] = [prev, value];
    }
  }
  return obj as IncomingHttpHeaders;
}
