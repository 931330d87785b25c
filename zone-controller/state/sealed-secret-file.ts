// A secret a zone controller keeps across restarts (its zone CA key, its
// WireGuard key), sealed with the node's state key (lib/pki/state-key.ts),
// which is held apart from the state directory. Without a state key the
// secret lives in memory only: a restart makes a new one. A clear-text file
// left by an older version is sealed and removed when there is a state key,
// and refused without one (it would stay on disk in the clear).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openSecret, sealSecret, type DataKey, type SealContext } from '../../lib/pki';
import { writeFileAtomic } from './atomic-file';

export interface SealedSecretFileOptions {
  // Where the sealed value is kept, and where an older version kept it in the clear.
  sealedFile: string;
  legacyClearFile: string;
  stateKey: DataKey | undefined;
  context: SealContext;
  // What the secret is, in messages ("the zone CA key").
  what: string;
}

export class SealedSecretFileError extends Error {}

export class SealedSecretFile {
  constructor(private readonly o: SealedSecretFileOptions) {}

  // Whether a secret is saved that load() will return (or refuse with a reason).
  get saved(): boolean {
    return fs.existsSync(this.o.sealedFile) || fs.existsSync(this.o.legacyClearFile);
  }

  // The saved secret, or undefined when there is none to use (then make one
  // and store() it). Throws SealedSecretFileError when a saved one cannot be used.
  async load(): Promise<{ secret: string; migrated: boolean } | undefined> {
    const { sealedFile, legacyClearFile, stateKey, context, what } = this.o;
    if (fs.existsSync(legacyClearFile)) {
      if (!stateKey) {
        throw new SealedSecretFileError(
          `${legacyClearFile} holds ${what} in the clear (written by an older version); give a state key (--state-key-file, or the systemd credential meridian-state-key) to seal it, or remove the file to start with a new one`,
        );
      }
      const secret = fs.readFileSync(legacyClearFile, 'utf8');
      await this.store(secret);
      fs.unlinkSync(legacyClearFile);
      return { secret, migrated: true };
    }
    if (!fs.existsSync(sealedFile)) return undefined;
    if (!stateKey) {
      throw new SealedSecretFileError(
        `${sealedFile} holds ${what} sealed with a state key, and none was given: give it with --state-key-file (or the systemd credential meridian-state-key), or remove the file to start with a new one`,
      );
    }
    try {
      return { secret: openSecret(fs.readFileSync(sealedFile, 'utf8'), stateKey, context), migrated: false };
    } catch (err) {
      throw new SealedSecretFileError(`the state key does not open ${what} in ${sealedFile}: ${(err as Error).message}; start with the state key it was sealed with, or remove the file to start with a new one`);
    }
  }

  // Sealed when there is a state key; nothing is written without one.
  async store(secret: string): Promise<boolean> {
    if (!this.o.stateKey) return false;
    fs.mkdirSync(path.dirname(this.o.sealedFile), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.o.sealedFile, JSON.stringify(sealSecret(secret, this.o.stateKey, this.o.context)) + '\n');
    return true;
  }
}
