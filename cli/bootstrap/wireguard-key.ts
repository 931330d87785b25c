// The region's WireGuard key as bootstrap leaves it for the zone controller:
// sealed with the node's state key, as zone-controller/tunnel keeps it
// (purpose wireguard-key, record wireguard/<region>), never in the clear.
import { generateKeyPair, isWireGuardKey } from '../../lib/net/wireguard-keys';
import { dataKeyFromBytes, openSecret, sealSecret, type SealContext } from '../../lib/pki';
import { STATE_KEY_FILE } from './layout';

function context(region: string): SealContext {
  return { purpose: 'wireguard-key', record: `wireguard/${region}` };
}

// `clearKey`: what an older version left in the clear, kept as the key; else a new one.
export function sealWireGuardKey(region: string, stateKeyText: string, clearKey: string | undefined): string {
  const key = clearKey?.trim() && isWireGuardKey(clearKey.trim()) ? clearKey.trim() : generateKeyPair().privateKey;
  return `${JSON.stringify(sealSecret(key, dataKeyFromBytes(stateKeyText, STATE_KEY_FILE), context(region)))}\n`;
}

export function openWireGuardKey(region: string, stateKeyText: string, sealed: string): string {
  const key = openSecret(sealed, dataKeyFromBytes(stateKeyText, STATE_KEY_FILE), context(region));
  if (!isWireGuardKey(key)) throw new Error('the sealed WireGuard key is not a WireGuard private key');
  return key;
}
