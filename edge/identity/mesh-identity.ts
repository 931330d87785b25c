// This proxy's mesh identity in controlled mode: a key made here (kept in
// memory only, never written, never sent), a leaf certificate for it signed
// by the zone CA, and the mesh roots to check peers against. The first leaf
// is asked for at start; each is renewed at two thirds of its life with a
// new key, and 'renewed' tells the listener and the pools to swap.
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { createCsr, generateKeyPairAsync, msUntilRotation } from '../../lib/pki';
import type { Logger } from '../../lib/observability/logger';
import { IssueError, type LeafSource } from './leaf-source';

export interface MeshCredentials {
  identity: string;
  keyPem: string;
  // Leaf then zone CA.
  chainPem: string;
  trustBundle: string[];
  serial: string;
  notAfter: Date;
}

export type { LeafSource };

export interface MeshIdentityOptions {
  proxy: string;
  mode: 'edge' | 'ingress';
  minRetryMs?: number;
  maxRetryMs?: number;
}

// Refusals that asking again will not change.
const FINAL = new Set([grpc.status.FAILED_PRECONDITION, grpc.status.INVALID_ARGUMENT, grpc.status.UNIMPLEMENTED]);

export declare interface MeshIdentity {
  on(event: 'renewed', listener: (credentials: MeshCredentials) => void): this;
}

export class MeshIdentity extends EventEmitter {
  private credentials: MeshCredentials | undefined;
  private identity: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  renewals = 0;
  lastError: string | undefined;

  constructor(
    private readonly source: LeafSource,
    private readonly options: MeshIdentityOptions,
    private readonly logger: Logger,
  ) {
    super();
  }

  get current(): MeshCredentials | undefined {
    return this.credentials;
  }

  // Resolves with the first leaf, asking again (capped backoff) while the
  // zone is away or its CA not issued yet; rejects on a final refusal (a
  // zone without a CA, a proxy name that cannot be an identity).
  async start(): Promise<MeshCredentials> {
    const min = this.options.minRetryMs ?? 200;
    const max = this.options.maxRetryMs ?? 5_000;
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new Error('stopped before a mesh certificate was issued');
      try {
        this.install(await this.obtain());
        return this.credentials!;
      } catch (err) {
        if (err instanceof IssueError && FINAL.has(err.code)) throw err;
        this.lastError = (err as Error).message;
        const waitMs = Math.min(max, min * 2 ** attempt);
        this.logger.warn({ err: this.lastError, retryInMs: waitMs }, 'waiting for a mesh certificate from the zone controller');
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async obtain(): Promise<MeshCredentials> {
    this.identity ??= (await this.source.describe(this.options.proxy, this.options.mode)).identity;
    const { privateKeyPem } = await generateKeyPairAsync();
    const leaf = await this.source.issue(this.options.proxy, createCsr({ keyPem: privateKeyPem, identity: this.identity }));
    return { identity: leaf.identity, keyPem: privateKeyPem, chainPem: leaf.chainPem, trustBundle: leaf.trustBundle, serial: leaf.serial, notAfter: leaf.notAfter };
  }

  private install(credentials: MeshCredentials): void {
    this.credentials = credentials;
    this.lastError = undefined;
    const dueInMs = msUntilRotation(credentials.chainPem);
    this.logger.info({ identity: credentials.identity, serial: credentials.serial, notAfter: credentials.notAfter.toISOString(), renewInMs: dueInMs }, 'mesh certificate installed');
    this.schedule(dueInMs, 0);
  }

  private schedule(inMs: number, failures: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.renew(failures), Math.min(inMs, 2 ** 31 - 1));
    this.timer.unref();
  }

  // A failed renewal is tried again well before the leaf expires: backoff
  // capped at a tenth of what is left of its life.
  private async renew(failures: number): Promise<void> {
    try {
      const next = await this.obtain();
      if (this.stopped) return;
      this.renewals++;
      this.install(next);
      this.emit('renewed', next);
    } catch (err) {
      this.lastError = (err as Error).message;
      const leftMs = (this.credentials?.notAfter.getTime() ?? Date.now()) - Date.now();
      const waitMs = Math.max(100, Math.min(this.options.maxRetryMs ?? 5_000, (this.options.minRetryMs ?? 200) * 2 ** failures, leftMs / 10));
      this.logger.error({ err: this.lastError, retryInMs: Math.round(waitMs), expiresInMs: leftMs }, 'cannot renew the mesh certificate');
      this.schedule(waitMs, failures + 1);
    }
  }
}
