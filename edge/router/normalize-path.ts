// The path a request is routed and forwarded on: dot segments removed as
// RFC 3986 5.2.4 says ("/a/./b/../c" is "/a/c"; a ".." above the root stays
// at the root, so "/a/../../etc/passwd" is "/etc/passwd"), nothing else
// changed ("//" stays, percent-escapes keep their case, the query is passed
// on as sent). Refused (400), because a backend that decodes the path would
// see another path than the one routed:
//   - a percent sign not followed by two hex digits (malformed escape);
//   - an encoded slash (%2F), which a backend may take as a separator;
//   - a segment that decodes to "." or ".." (%2E%2E, .%2e): an encoded dot
//     segment that a backend may climb with.
// One scan of the path for a request without "%" or "/." in it; the slower
// segment walk only for the others.

export class PathRefusal {
  constructor(readonly reason: string) {}
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

// `target` is an origin-form request target ("/path?query"). Returns it as is
// when nothing needs to change, the normalized target, or why it is refused.
export function normalizeRequestPath(target: string): string | PathRefusal {
  if (target.charCodeAt(0) !== 47 /* / */) return target;
  const q = target.indexOf('?');
  const end = q < 0 ? target.length : q;
  let dots = false;
  for (let i = 1; i < end; i++) {
    const c = target.charCodeAt(i);
    if (c === 37 /* % */) {
      const hi = i + 2 < end ? hexValue(target.charCodeAt(i + 1)) : -1;
      const lo = i + 2 < end ? hexValue(target.charCodeAt(i + 2)) : -1;
      if (hi < 0 || lo < 0) return new PathRefusal('malformed percent-encoding in the path');
      const byte = hi * 16 + lo;
      if (byte === 0x2f) return new PathRefusal('encoded slash (%2F) in the path');
      if (byte === 0x2e) dots = true;
      i += 2;
    } else if (c === 46 /* . */ && target.charCodeAt(i - 1) === 47) {
      dots = true;
    }
  }
  if (!dots) return target;
  return removeDotSegments(target.slice(0, end), target.slice(end));
}

function isEncodedDotSegment(segment: string): boolean {
  if (segment.length < 3 || segment.length > 6 || !segment.includes('%')) return false;
  const decoded = segment.replace(/%2e/gi, '.');
  return decoded === '.' || decoded === '..';
}

function removeDotSegments(path: string, query: string): string | PathRefusal {
  const segments = path.slice(1).split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const s = segments[i];
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      // "/a/b/.." is "/a/": the segment climbed from is gone, the slash stays.
      if (i === last) out.push('');
      continue;
    }
    if (isEncodedDotSegment(s)) return new PathRefusal('encoded dot segment (%2E) in the path');
    out.push(s);
  }
  return '/' + out.join('/') + query;
}
