// Parses `wg show <if> dump`: one tab-separated line for the interface, then
// one per peer. Kept pure so that the reconcile plan and the status report can
// be tested without a WireGuard interface.

export interface WgInterfaceDump {
  privateKey: string | null;
  publicKey: string | null;
  listenPort: number;
  fwmark: number | null;
}

export interface WgPeerDump {
  publicKey: string;
  presharedKey: string | null;
  endpoint: string | null;
  allowedIps: string[];
  // Unix seconds; 0 means never.
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  persistentKeepalive: number | null;
}

export interface WgDump {
  iface: WgInterfaceDump;
  peers: WgPeerDump[];
}

const none = (s: string): string | null => (s === '(none)' || s === '' ? null : s);
const off = (s: string): number | null => (s === 'off' || s === '0' ? null : int(s));

function int(s: string): number {
  if (!/^\d+$/.test(s)) throw new Error(`wg dump: not a number: ${JSON.stringify(s)}`);
  return Number(s);
}

export function parseWgDump(text: string): WgDump {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (!lines.length) throw new Error('wg dump: empty');
  const head = lines[0]!.split('\t');
  if (head.length !== 4) throw new Error(`wg dump: interface line has ${head.length} fields, want 4`);
  const iface: WgInterfaceDump = { privateKey: none(head[0]!), publicKey: none(head[1]!), listenPort: int(head[2]!), fwmark: off(head[3]!) };
  const peers = lines.slice(1).map((line, i) => {
    const f = line.split('\t');
    if (f.length !== 8) throw new Error(`wg dump: peer line ${i + 1} has ${f.length} fields, want 8`);
    const allowed = none(f[3]!);
    return {
      publicKey: f[0]!,
      presharedKey: none(f[1]!),
      endpoint: none(f[2]!),
      allowedIps: allowed ? allowed.split(',').map((s) => s.trim()).filter(Boolean) : [],
      latestHandshake: int(f[4]!),
      rxBytes: int(f[5]!),
      txBytes: int(f[6]!),
      persistentKeepalive: off(f[7]!),
    };
  });
  return { iface, peers };
}
