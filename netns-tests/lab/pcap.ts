// Reads the classic pcap files tcpdump writes (Ethernet frames, IPv4 only)
// into packets with their addresses, protocol and ports, so a test can say
// what crossed a link.
export interface CapturedPacket {
  src: string;
  dst: string;
  // 6 TCP, 17 UDP, 1 ICMP, ...
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  // The whole frame as captured.
  frame: Buffer;
}

const ip = (b: Buffer, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

export function parsePcap(file: Buffer): CapturedPacket[] {
  if (file.length < 24) throw new Error('pcap: shorter than its header');
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('pcap: not a pcap file');
  const u32 = (at: number) => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`pcap: link type ${linkType}, want 1 (Ethernet)`);
  const packets: CapturedPacket[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const capLen = u32(at + 8);
    const frame = file.subarray(at + 16, at + 16 + capLen);
    at += 16 + capLen;
    let off = 12;
    let etherType = frame.length >= 14 ? frame.readUInt16BE(off) : 0;
    while (etherType === 0x8100 && frame.length >= off + 6) {
      off += 4;
      etherType = frame.readUInt16BE(off);
    }
    off += 2;
    if (etherType !== 0x0800 || frame.length < off + 20) continue;
    const ihl = (frame[off]! & 0x0f) * 4;
    const protocol = frame[off + 9]!;
    const p: CapturedPacket = { src: ip(frame, off + 12), dst: ip(frame, off + 16), protocol, frame };
    const l4 = off + ihl;
    if ((protocol === 6 || protocol === 17) && frame.length >= l4 + 4) {
      p.srcPort = frame.readUInt16BE(l4);
      p.dstPort = frame.readUInt16BE(l4 + 2);
    }
    packets.push(p);
  }
  return packets;
}
