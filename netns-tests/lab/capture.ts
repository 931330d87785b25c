// A packet capture on one of the lab's links while something runs, read
// back with the pcap reader: what crossed the link, as packets.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Lab } from './lab';
import type { LabNode } from './address-plan';
import { parsePcap, type CapturedPacket } from './pcap';

export async function capture(lab: Lab, node: LabNode, ifname: string, name: string, during: () => Promise<void>): Promise<CapturedPacket[]> {
  const file = path.join(lab.dir, `${name}.pcap`);
  // -Z root: tcpdump otherwise drops to its own user, who may not write
  // here. --immediate-mode: with the default buffer this kernel handed
  // tcpdump nothing at all.
  const dump = lab.spawn(node, 'tcpdump', ['-i', ifname, '-n', '-p', '--immediate-mode', '-U', '-s', '0', '-Z', 'root', '-w', file], { name: `${node}-tcpdump-${name}` });
  await dump.waitForLine(/listening on/);
  try {
    await during();
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    await dump.stop('SIGINT');
  }
  return parsePcap(fs.readFileSync(file));
}

export const between = (p: CapturedPacket, x: string, y: string): boolean => (p.src === x && p.dst === y) || (p.src === y && p.dst === x);

export const describePacket = (p: CapturedPacket): string => `${p.src}:${p.srcPort ?? ''} > ${p.dst}:${p.dstPort ?? ''} proto ${p.protocol}`;
