// DNS for `<service>.mesh` on UDP and TCP (same port), so workloads of the
// region can reach services by their global name. The answers themselves are
// built in mesh-dns-answer.ts; this file is the transport.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type AddressInfo, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket, Packet } from 'dns-packet';
import type { Logger } from '../../lib/observability/logger';
import { answerMeshQuery, maxUdpResponseBytes, RCODE, responseTo, truncated, type MeshResolver } from './mesh-dns-answer';

export interface MeshDnsServerOptions {
  host: string;
  // 0 picks a free port (tests); address() tells which.
  port: number;
  resolve: MeshResolver;
  ttlSeconds?: number;
  logger: Logger;
  // A TCP connection with no query for this long is closed; default 10000.
  tcpIdleTimeoutMs?: number;
}

const DEFAULT_TTL_SECONDS = 5;
const DEFAULT_TCP_IDLE_TIMEOUT_MS = 10_000;
// With port 0 the TCP port is chosen first and UDP may find it taken.
const PORT_ZERO_ATTEMPTS = 5;

export class MeshDnsServer {
  private readonly host: string;
  private readonly port: number;
  private readonly resolve: MeshResolver;
  private readonly ttlSeconds: number;
  private readonly logger: Logger;
  private readonly tcpIdleTimeoutMs: number;
  private tcp: Server | undefined;
  private udp: UdpSocket | undefined;
  private readonly connections = new Set<Socket>();

  constructor(options: MeshDnsServerOptions) {
    this.host = options.host;
    this.port = options.port;
    this.resolve = options.resolve;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.logger = options.logger;
    this.tcpIdleTimeoutMs = options.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_TIMEOUT_MS;
  }

  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const tcp = await this.listenTcp(this.port);
      const port = (tcp.address() as AddressInfo).port;
      try {
        this.udp = await this.bindUdp(port);
        this.tcp = tcp;
        this.logger.info({ host: this.host, port }, 'mesh DNS listening on UDP and TCP');
        return;
      } catch (err) {
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
        const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (!(inUse && this.port === 0 && attempt < PORT_ZERO_ATTEMPTS)) throw err;
      }
    }
  }

  async stop(): Promise<void> {
    const tcp = this.tcp;
    const udp = this.udp;
    this.tcp = undefined;
    this.udp = undefined;
    for (const socket of this.connections) socket.destroy();
    this.connections.clear();
    await Promise.all([
      tcp && new Promise<void>((resolve) => tcp.close(() => resolve())),
      udp && new Promise<void>((resolve) => udp.close(() => resolve())),
    ]);
  }

  address(): { address: string; port: number } {
    if (!this.tcp) throw new Error('mesh DNS server is not started');
    const { address, port } = this.tcp.address() as AddressInfo;
    return { address, port };
  }

  private listenTcp(port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.serveTcp(socket));
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.error({ err }, 'mesh DNS TCP server error'));
        resolve(server);
      });
    });
  }

  private bindUdp(port: number): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket(isIP(this.host) === 6 ? 'udp6' : 'udp4');
      socket.once('error', reject);
      socket.on('message', (message, remote) => {
        const response = this.respond(message, 'udp');
        if (response) {
          socket.send(response, remote.port, remote.address, (err) => {
            if (err) this.logger.debug({ err, remote: remote.address }, 'mesh DNS UDP send failed');
          });
        }
      });
      socket.bind(port, this.host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.logger.error({ err }, 'mesh DNS UDP socket error'));
        resolve(socket);
      });
    });
  }

  // TCP messages carry a 2-byte length prefix; one connection may send several.
  private serveTcp(socket: Socket): void {
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => undefined);
    socket.setTimeout(this.tcpIdleTimeoutMs, () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) return;
        const message = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        const response = this.respond(message, 'tcp');
        if (!response) {
          // A malformed message leaves the stream unframed: close it.
          socket.destroy();
          return;
        }
        socket.write(response);
      }
    });
  }

  // The encoded response (with the length prefix on TCP), or undefined when
  // the message must be dropped.
  private respond(message: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch (err) {
      this.logger.debug({ err, transport }, 'dropped malformed DNS message');
      return undefined;
    }
    let response: Packet | undefined;
    try {
      response = answerMeshQuery(query, this.resolve, this.ttlSeconds);
    } catch (err) {
      this.logger.error({ err, question: query.questions?.[0]?.name }, 'mesh DNS could not answer');
      response = responseTo(query, RCODE.SERVFAIL);
    }
    if (!response) return undefined;
    try {
      if (transport === 'tcp') return dnsPacket.streamEncode(response);
      const encoded = dnsPacket.encode(response);
      return encoded.length > maxUdpResponseBytes(query) ? dnsPacket.encode(truncated(response)) : encoded;
    } catch (err) {
      // Only a question that decodes but cannot be encoded again gets here.
      this.logger.debug({ err, transport }, 'dropped DNS query whose response could not be encoded');
      return undefined;
    }
  }
}
