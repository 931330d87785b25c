// A zone node's state key: seals the keys a zone controller keeps in its
// state directory (its zone CA key, its WireGuard key), and is held apart
// from that directory so a copy of the state alone opens nothing. The same
// rules as the data key (./data-key.ts): 32 or more random bytes, mode 0600.
// Given with --state-key-file, or as the systemd credential
// `meridian-state-key` (LoadCredential=meridian-state-key:/etc/meridian/state.key),
// which systemd places in $CREDENTIALS_DIRECTORY.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataKey, type DataKey } from './data-key';

export const STATE_KEY_CREDENTIAL = 'meridian-state-key';

export interface StateKeySource {
  file: string;
  // Where it came from, for the start-up log.
  from: 'flag' | 'systemd credential';
}

// The file to read: the flag's, else the systemd credential when there is one.
export function stateKeySource(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): StateKeySource | undefined {
  if (flag) return { file: flag, from: 'flag' };
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir) return undefined;
  const file = join(dir, STATE_KEY_CREDENTIAL);
  return existsSync(file) ? { file, from: 'systemd credential' } : undefined;
}

export function loadStateKey(file: string): DataKey {
  return loadDataKey(file, { label: 'state key file' });
}
