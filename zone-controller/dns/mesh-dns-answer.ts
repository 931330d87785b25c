// What the zone controller answers for one DNS query. It is authoritative
// for `mesh.` only and not a recursive resolver: any other name is REFUSED.
import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import * as dnsPacket from 'dns-packet';
import { isIPv4, isIPv6 } from 'node:net';

export type MeshResolver = (service: string) => { v4: string[]; v6: string[] } | undefined;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const OPCODE_QUERY = 0;
const ZONE = 'mesh';
// Resource names are DNS labels; anything else cannot be a service.
const SERVICE_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// The EDNS payload size we advertise (the DNS flag day 2020 value).
export const EDNS_UDP_PAYLOAD_SIZE = 1232;

// Returns the response to send, or undefined when the packet must be ignored
// (it is itself a response: answering could start a loop between servers).
// Throws when the resolver throws or returns something that is not an
// address of the family asked for; the caller answers SERVFAIL.
export function answerMeshQuery(query: DecodedPacket, resolve: MeshResolver, ttlSeconds: number): Packet | undefined {
  if (query.type !== 'query') return undefined;
  if (opcodeOf(query) !== OPCODE_QUERY) return responseTo(query, RCODE.NOTIMP);
  const questions = query.questions ?? [];
  if (questions.length !== 1) return responseTo(query, RCODE.FORMERR);

  const question = questions[0]!;
  const labels = question.name.toLowerCase().split('.').filter((l) => l !== '');
  if (labels[labels.length - 1] !== ZONE || question.class !== 'IN') return responseTo(query, RCODE.REFUSED);
  // The zone apex exists but holds no addresses.
  if (labels.length === 1) return responseTo(query, RCODE.NOERROR);
  const service = labels[0]!;
  if (labels.length !== 2 || !SERVICE_LABEL.test(service)) return responseTo(query, RCODE.NXDOMAIN);

  const addresses = resolve(service);
  if (!addresses) return responseTo(query, RCODE.NXDOMAIN);
  if (question.type === 'A') return responseTo(query, RCODE.NOERROR, records('A', question.name, addresses.v4, ttlSeconds));
  if (question.type === 'AAAA') return responseTo(query, RCODE.NOERROR, records('AAAA', question.name, addresses.v6, ttlSeconds));
  // The name exists but has no records of that type.
  return responseTo(query, RCODE.NOERROR);
}

// The response header for a query: same id, opcode and question.
export function responseTo(query: DecodedPacket, rcode: number, answers: Answer[] = []): Packet {
  return {
    type: 'response',
    id: query.id,
    // AA: we own mesh.; RD echoed as RFC 1035 asks; RA clear: no recursion here.
    flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | (opcodeOf(query) << 11) | rcode,
    questions: query.questions ?? [],
    answers,
    additionals: hasEdns(query) ? [ednsRecord()] : [],
  };
}

// The same response without records and with TC set: too large for UDP,
// the client asks again over TCP.
export function truncated(response: Packet): Packet {
  return { ...response, flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] };
}

// The largest UDP response the client accepts: 512 bytes without EDNS.
export function maxUdpResponseBytes(query: DecodedPacket): number {
  const opt = query.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  if (!opt) return 512;
  return Math.max(512, Math.min(opt.udpPayloadSize ?? 512, EDNS_UDP_PAYLOAD_SIZE));
}

function opcodeOf(query: DecodedPacket): number {
  return ((query.flags ?? 0) >> 11) & 0xf;
}

function hasEdns(query: DecodedPacket): boolean {
  return query.additionals?.some((a) => a.type === 'OPT') ?? false;
}

function ednsRecord(): Answer {
  return { type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_PAYLOAD_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
}

// dns-packet encodes any string as an address without complaint, so a bad
// one is caught here rather than sent to clients as a wrong address.
function records(type: 'A' | 'AAAA', name: string, addresses: readonly string[], ttl: number): Answer[] {
  const valid = type === 'A' ? isIPv4 : isIPv6;
  return addresses.map((data) => {
    if (!valid(data)) throw new Error(`resolver returned '${data}' as an ${type} address`);
    return { type, name, ttl, class: 'IN', data };
  });
}
