// host:port parsing for command-line flags, with errors that name the flag.
export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  if (!m) throw new Error(`${flag}: expected HOST:PORT, got '${value}'`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`${flag}: port ${port} is out of range`);
  return { host: (m[1] ?? m[2])!, port };
}
