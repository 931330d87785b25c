// The instance token policy this zone checks registrations with: the last one
// the global controller sent, in memory and in <state-dir>/instance-token-policy.json
// (public keys and revoked ids: nothing secret), so that after a restart the
// zone checks tokens, and still refuses revoked ones, while the global
// controller is away.
import type { Logger } from '../../lib/observability/logger';
import { verifyInstanceToken, type InstanceTokenClaims, type InstanceTokenTrust } from '../../lib/auth/instance-token';
import { pruneRevoked, readInstanceTokenPolicy, trustOf, type InstanceTokenPolicy } from '../../lib/auth/instance-token-policy';
import { readJsonFile, writeJsonFile } from '../state/atomic-file';

// Revoked entries of expired tokens go at least this often, so the set stays
// bounded by the tokens still alive.
const PRUNE_INTERVAL_MS = 3600_000;

export class InstanceTokenPolicyStore {
  private policy: InstanceTokenPolicy = { publicKeys: [], revoked: [] };
  private trust: InstanceTokenTrust = trustOf(this.policy);
  private prunedAtMs = 0;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly filePath: string, private readonly logger?: Logger) {}

  // Synchronous, before the zone serves. A damaged file is reported and
  // ignored: the global controller sends the policy again on the next Welcome.
  load(): void {
    const read = readJsonFile<unknown>(this.filePath);
    if (!read.ok) {
      if (read.reason === 'corrupt') this.logger?.error({ filePath: this.filePath, error: read.error }, 'instance token policy file is damaged; no registration is accepted until the global controller sends the policy');
      return;
    }
    try {
      this.set(readInstanceTokenPolicy(read.value));
      this.logger?.info({ keys: this.policy.publicKeys.length, revoked: this.policy.revoked.length }, 'loaded the instance token policy');
    } catch (err) {
      this.logger?.error({ filePath: this.filePath, error: (err as Error).message }, 'instance token policy file is not valid; ignored');
    }
  }

  // A policy from the global controller: replaces the one held, then is saved.
  // Throws (nothing changed) when it is not valid.
  accept(input: unknown): void {
    const policy = readInstanceTokenPolicy(input);
    this.set(policy);
    this.logger?.info({ keys: policy.publicKeys.length, revoked: policy.revoked.length }, 'instance token policy updated');
    this.save();
  }

  verify(token: string, now = Date.now()): InstanceTokenClaims {
    if (now - this.prunedAtMs > PRUNE_INTERVAL_MS) this.set(pruneRevoked(this.policy, now), now);
    return verifyInstanceToken(token, this.trust, now);
  }

  get current(): InstanceTokenPolicy {
    return this.policy;
  }

  // Resolves once the last accepted policy is on disk.
  flush(): Promise<void> {
    return this.saving;
  }

  private set(policy: InstanceTokenPolicy, now = Date.now()): void {
    this.policy = policy;
    this.trust = trustOf(policy);
    this.prunedAtMs = now;
  }

  private save(): void {
    const policy = this.policy;
    this.saving = this.saving
      .then(() => (policy === this.policy ? writeJsonFile(this.filePath, policy) : undefined))
      .catch((err) => this.logger?.error({ err: (err as Error).message, filePath: this.filePath }, 'cannot save the instance token policy'));
  }
}
