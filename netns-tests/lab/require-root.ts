// The lab changes the host's network: it needs root and a few Debian
// packages. Say so plainly instead of failing somewhere inside.
import { spawnSync } from 'node:child_process';

export const LAB_PACKAGES = 'wireguard-go wireguard-tools bird2 iproute2 iputils-ping tcpdump iptables';
const TOOLS = ['ip', 'wg', 'wireguard-go', 'bird', 'birdc', 'ping', 'tcpdump', 'iptables'];

export function missingTools(): string[] {
  return TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
}

export function requireLabHost(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the netns lab needs root (it makes network namespaces, veth pairs and WireGuard interfaces): run netns-tests/run.sh as root');
  }
  const missing = missingTools();
  if (missing.length) {
    throw new Error(`the netns lab needs ${missing.join(', ')}: apt-get install -y --no-install-recommends ${LAB_PACKAGES}`);
  }
}
