// The host a request names (Host header or :authority), reduced to what the
// host table is keyed by: lower case, no port, no trailing dot. IPv6 literals
// keep their brackets ("[::1]").
export function normalizeHost(raw: string): string {
  let host = raw;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    host = end < 0 ? host : host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) host = host.slice(0, colon);
  }
  if (host.charCodeAt(host.length - 1) === 46 /* . */) host = host.slice(0, -1);
  return host.toLowerCase();
}
