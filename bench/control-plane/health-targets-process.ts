// Child process: the TCP listeners that the zones' health checks connect to.
// A grid of loopback addresses x ports answers every ordinary instance; each
// region's probe instance has a listener of its own, which the parent closes
// and reopens to flip that one instance's health. Accepted connections are
// closed at once: a TCP check only needs the handshake.
import * as net from 'node:net';
import { GRID_ADDRESSES, GRID_PORTS, gridListenAddress } from './fixtures';

export type TargetsCommand = { type: 'start'; probes: number } | { type: 'probe'; index: number; up: boolean } | { type: 'stats' };
export type TargetsReply =
  | { type: 'ready'; gridPorts: number[]; probePorts: number[] }
  | { type: 'probe'; index: number; up: boolean; at: number }
  | { type: 'stats'; accepted: number };

let accepted = 0;
const onConnection = (socket: net.Socket): void => {
  accepted++;
  socket.on('error', () => undefined);
  socket.destroy();
};

function listen(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer(onConnection);
    server.once('error', reject);
    server.listen({ host, port, backlog: 4096 }, () => resolve(server));
  });
}

async function gridPort(): Promise<number> {
  // One port that every grid address can take; retry if one is taken.
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await listen(gridListenAddress(0), 0);
    const port = (first.address() as net.AddressInfo).port;
    try {
      for (let a = 1; a < GRID_ADDRESSES; a++) await listen(gridListenAddress(a), port);
      return port;
    } catch {
      first.close();
    }
  }
  throw new Error('no port free on every grid address');
}

const probes: { port: number; server: net.Server | undefined }[] = [];

async function start(count: number): Promise<TargetsReply> {
  const gridPorts: number[] = [];
  for (let p = 0; p < GRID_PORTS; p++) gridPorts.push(await gridPort());
  for (let i = 0; i < count; i++) {
    const server = await listen('127.0.0.1', 0);
    probes.push({ port: (server.address() as net.AddressInfo).port, server });
  }
  return { type: 'ready', gridPorts, probePorts: probes.map((p) => p.port) };
}

async function probe(index: number, up: boolean): Promise<TargetsReply> {
  const p = probes[index]!;
  if (up && !p.server) p.server = await listen('127.0.0.1', p.port);
  if (!up && p.server) {
    p.server.close();
    p.server = undefined;
  }
  return { type: 'probe', index, up, at: Date.now() };
}

process.on('message', (cmd: TargetsCommand) => {
  const reply = (r: TargetsReply) => process.send!(r);
  if (cmd.type === 'start') void start(cmd.probes).then(reply, (err) => { console.error(err); process.exit(1); });
  else if (cmd.type === 'probe') void probe(cmd.index, cmd.up).then(reply, (err) => { console.error(err); process.exit(1); });
  else reply({ type: 'stats', accepted });
});
// The parent going away ends this process too.
process.on('disconnect', () => process.exit(0));
