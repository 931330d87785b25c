// The region's WireGuard interface: its key is made here and never leaves the
// node (only the public key is reported). It is kept sealed with the node's
// state key (wireguard/private.key.sealed, purpose wireguard-key, record
// wireguard/<region>), or in memory only without one (a restart then brings
// a new key, which the other regions learn from the global controller), and
// given to `wg` on its standard input, never in a file. Its peers follow the
// global region list; each peer's handshake age and the reachability of its
// ingress over the tunnel are reported up and into the discovery view.
import * as path from 'node:path';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../lib/observability/logger';
import { bringDown, bringUp, generateKeyPair, isWireGuardKey, peerStatus, publicKeyOf, reconcilePeers, type DesiredPeer } from '../../lib/net/wireguard';
import type { DataKey } from '../../lib/pki';
import { SealedSecretFile } from '../state/sealed-secret-file';
import type { GlobalState } from '../state/global-state';
import { IngressProber } from './ingress-prober';

// Probes of every remote ingress over the tunnel: a dead path is declared
// 0.8-1.05 s after it died (3 misses, 250 ms apart, 300 ms timeout on a
// short round trip), a healed one used again after 3 answers in a row
// (0.5-0.75 s). The timeout is 4 round trips (300 ms to 1 s), and a stalled
// event loop does not count as a miss (lib/net/tcp-connect-probe.ts): a false
// "down" needs three handshakes in a row that the kernel did not complete in
// time, not a busy process. Twice the probes of before (every 500 ms): one
// TCP handshake per remote region every 250 ms.
const PROBE = { intervalMs: 250, downAfterMisses: 3, upAfterSuccesses: 3 };

export interface TunnelOptions {
  interfaceName: string;
  // This region's address inside the tunnel range, e.g. 10.99.0.1.
  address: string;
  listenPort: number;
  // host:port other regions send WireGuard UDP to.
  endpoint: string;
  stateDir: string;
  // Seals the private key in stateDir; without it the key is kept in memory only.
  stateKey?: DataKey;
  keepaliveSeconds?: number;
  probeIntervalMs?: number;
}

export interface TunnelPeerStatus {
  region: string;
  lastHandshakeAtMs: number;
  up: boolean;
  rttMs: number;
}

export declare interface TunnelManager {
  // Peers or their reachability changed.
  on(event: 'change', listener: () => void): this;
}

export class TunnelManager extends EventEmitter {
  publicKey = '';
  private readonly prober: IngressProber;
  private reconciling: Promise<void> | undefined;
  private again = false;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly handshakes = new Map<string, number>(); // public key -> ms
  private readonly onRegions = () => this.reconcile();

  constructor(
    private readonly region: string,
    private readonly opts: TunnelOptions,
    private readonly state: GlobalState,
    private readonly logger: Logger,
  ) {
    super();
    this.prober = new IngressProber(
      () => this.remoteRegions().map((r) => ({ region: r.region, address: r.ingressAddress })),
      () => this.emit('change'),
      { ...PROBE, intervalMs: opts.probeIntervalMs ?? PROBE.intervalMs },
    );
  }

  get tunnel(): { publicKey: string; endpoint: string; address: string } {
    return { publicKey: this.publicKey, endpoint: this.opts.endpoint, address: this.opts.address };
  }

  async start(): Promise<void> {
    const privateKey = await this.privateKey();
    this.publicKey = publicKeyOf(privateKey);
    const up = await bringUp({ ifname: this.opts.interfaceName, privateKey, listenPort: this.opts.listenPort, address: `${this.opts.address}/32` });
    this.logger.info({ ifname: up.ifname, implementation: up.implementation, address: this.opts.address, publicKey: this.publicKey }, 'tunnel interface up');
    this.state.on('regions', this.onRegions);
    this.reconcile();
    this.prober.start();
    this.statusTimer = setInterval(() => void this.readHandshakes(), 1000);
    this.statusTimer.unref();
  }

  private async privateKey(): Promise<string> {
    const dir = path.join(this.opts.stateDir, 'wireguard');
    const file = new SealedSecretFile({
      sealedFile: path.join(dir, 'private.key.sealed'),
      legacyClearFile: path.join(dir, 'private.key'),
      stateKey: this.opts.stateKey,
      context: { purpose: 'wireguard-key', record: `wireguard/${this.region}` },
      what: `the WireGuard key of region ${this.region}`,
    });
    const saved = await file.load();
    if (saved) {
      const key = saved.secret.trim();
      if (!isWireGuardKey(key)) throw new Error(`the saved WireGuard key of region ${this.region} is not a WireGuard private key`);
      if (saved.migrated) this.logger.warn({ dir }, 'sealed the WireGuard key left in the clear by an older version, and removed the clear file');
      return key;
    }
    const { privateKey } = generateKeyPair();
    await file.store(privateKey);
    return privateKey;
  }

  // Every other region that has published its tunnel.
  private remoteRegions() {
    return [...this.state.regions.values()].filter((r) => r.region !== this.region && r.tunnel?.publicKey && r.tunnel.address && r.tunnel.endpoint);
  }

  private reconcile(): void {
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = this.reconcileOnce()
      .catch((err) => this.logger.error({ err: (err as Error).message }, 'tunnel peer reconcile failed'))
      .finally(() => {
        this.reconciling = undefined;
        if (this.again) {
          this.again = false;
          this.reconcile();
        }
      });
  }

  private async reconcileOnce(): Promise<void> {
    const desired: DesiredPeer[] = this.remoteRegions().map((r) => ({
      publicKey: r.tunnel!.publicKey,
      endpoint: r.tunnel!.endpoint,
      allowedIps: [`${r.tunnel!.address}/32`],
      persistentKeepalive: this.opts.keepaliveSeconds ?? 5,
    }));
    const result = await reconcilePeers(this.opts.interfaceName, desired);
    const { add, update, remove } = result.peers;
    if (add.length || update.length || remove.length) {
      this.logger.info({ added: add.length, updated: update.length, removed: remove.length }, 'tunnel peers reconciled');
      this.emit('change');
    }
  }

  private async readHandshakes(): Promise<void> {
    try {
      for (const p of await peerStatus(this.opts.interfaceName)) this.handshakes.set(p.publicKey, p.latestHandshakeAtMs ?? 0);
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'cannot read tunnel peers');
    }
  }

  peers(): TunnelPeerStatus[] {
    return this.remoteRegions().map((r) => {
      const probe = this.prober.get(r.region);
      return {
        region: r.region,
        lastHandshakeAtMs: this.handshakes.get(r.tunnel!.publicKey) ?? 0,
        up: probe?.up ?? false,
        rttMs: Math.round(probe?.rttMs ?? 0),
      };
    });
  }

  peer(region: string): TunnelPeerStatus | undefined {
    return this.peers().find((p) => p.region === region);
  }

  async stop(options: { bringDown?: boolean } = {}): Promise<void> {
    this.prober.stop();
    clearInterval(this.statusTimer);
    this.state.off('regions', this.onRegions);
    await this.reconciling;
    if (options.bringDown) await bringDown(this.opts.interfaceName).catch(() => undefined);
  }
}
