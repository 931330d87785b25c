// Path prefixes match whole path segments: "/api" matches "/api", "/api/" and
// "/api/users" but not "/apis"; a prefix that ends with "/" matches every path
// under it. Matching is on the path with its dot segments removed
// (normalize-path.ts) and no percent-decoding, without the query string.

export function matchesPrefix(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  if (path.length === prefix.length) return true;
  if (prefix.charCodeAt(prefix.length - 1) === 47 /* / */) return true;
  return path.charCodeAt(prefix.length) === 47;
}

// The path part of a request target (before "?").
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

// Removes a matched prefix from a request target, keeping the query and a
// leading "/": stripPrefix("/api/users?x=1", "/api") is "/users?x=1", and
// stripPrefix("/api", "/api") is "/".
export function stripPrefix(url: string, prefix: string): string {
  if (prefix === '/' || !url.startsWith(prefix)) return url;
  const rest = url.slice(prefix.length);
  if (rest.length === 0) return '/';
  const c = rest.charCodeAt(0);
  if (c === 47 /* / */) return rest;
  return '/' + rest; // "?query" or the rest after a prefix that ended in "/"
}
