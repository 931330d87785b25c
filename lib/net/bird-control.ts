// Drives a running BIRD 2 through its control socket: installs a new config
// atomically and reloads it, reads the sessions' states, and switches the
// edge's anycast announcement on and off.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommandError, run } from './exec';
import { renderEdgeConfig, type EdgeBirdConfig } from './bird-config';
import { isEstablished, parseBirdReply, parseShowProtocols, replyError, type BirdProtocol, type BirdReplyLine } from './bird-status';

export { isEstablished, parseShowProtocols, parseBirdReply } from './bird-status';
export type { BirdProtocol } from './bird-status';

export interface BirdControlOptions {
  // The -s socket of the BIRD process.
  socketPath: string;
  // The -c file it was started with: `configure` rereads that file.
  configPath: string;
  birdPath?: string;
  birdcPath?: string;
  timeoutMs?: number;
}

export class BirdError extends Error {}

export class BirdControl {
  constructor(readonly opts: BirdControlOptions) {}

  async birdc(args: string[]): Promise<BirdReplyLine[]> {
    let out: string;
    try {
      out = (await run(this.opts.birdcPath ?? 'birdc', ['-v', '-s', this.opts.socketPath, ...args], { timeoutMs: this.opts.timeoutMs ?? 10_000 })).stdout;
    } catch (err) {
      // birdc exits 1 on an error reply; the reply says which.
      if (!(err instanceof CommandError) || !err.stdout) throw err;
      out = err.stdout;
    }
    const lines = parseBirdReply(out);
    const error = replyError(lines);
    if (error) throw new BirdError(`birdc ${args.join(' ')}: ${error}`);
    return lines;
  }

  // Checked with `bird -p` before it replaces the old file, so a config BIRD
  // would refuse never becomes the one it rereads on restart.
  async writeConfig(text: string): Promise<void> {
    const file = this.opts.configPath;
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`);
    await fs.promises.writeFile(tmp, text, { mode: 0o644 });
    try {
      await run(this.opts.birdPath ?? 'bird', ['-p', '-c', tmp], { timeoutMs: this.opts.timeoutMs ?? 10_000 });
      await fs.promises.rename(tmp, file);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true });
      if (err instanceof CommandError) throw new BirdError(`refused config for ${file}: ${err.stderr.trim() || err.message}`);
      throw err;
    }
  }

  async configure(): Promise<void> {
    await this.birdc(['configure']);
  }

  async apply(text: string): Promise<void> {
    await this.writeConfig(text);
    await this.configure();
  }

  async showProtocols(): Promise<BirdProtocol[]> {
    return parseShowProtocols(await this.birdc(['show', 'protocols']));
  }

  async bgpSessions(): Promise<BirdProtocol[]> {
    return (await this.showProtocols()).filter((p) => p.proto === 'BGP');
  }

  // Bounded wait until the named BGP sessions (all when none named) are up.
  async waitEstablished(names?: string[], timeoutMs = 30_000): Promise<BirdProtocol[]> {
    const deadline = Date.now() + timeoutMs;
    let last: BirdProtocol[] = [];
    let lastError = '';
    while (Date.now() < deadline) {
      try {
        last = (await this.bgpSessions()).filter((p) => !names || names.includes(p.name));
        if (last.length && last.every(isEstablished) && (!names || last.length === names.length)) return last;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const states = last.map((p) => `${p.name}: ${p.state} ${p.info}`).join(', ') || lastError || 'no BGP sessions';
    throw new BirdError(`BGP sessions not established after ${timeoutMs} ms (${states})`);
  }
}

// The edge's switch: the anycast /32s are in the rendered config only while
// announcing, so the file on disk always says what is announced, also across
// a BIRD restart.
export class AnycastAnnouncer {
  private enabled: boolean;

  constructor(
    private readonly control: BirdControl,
    private config: Omit<EdgeBirdConfig, 'announce'>,
    initially = false,
  ) {
    this.enabled = initially;
  }

  get announcing(): boolean {
    return this.enabled;
  }

  render(): string {
    return renderEdgeConfig({ ...this.config, announce: this.enabled });
  }

  // Writes the config without reloading: for before BIRD is started.
  async writeConfig(): Promise<void> {
    await this.control.writeConfig(this.render());
  }

  async announce(enabled: boolean): Promise<void> {
    const before = this.enabled;
    this.enabled = enabled;
    try {
      await this.control.apply(this.render());
    } catch (err) {
      this.enabled = before;
      throw err;
    }
  }

  // New neighbors or prefixes, same announcement state.
  async update(config: Omit<EdgeBirdConfig, 'announce'>): Promise<void> {
    const before = this.config;
    this.config = config;
    try {
      await this.control.apply(this.render());
    } catch (err) {
      this.config = before;
      throw err;
    }
  }
}
