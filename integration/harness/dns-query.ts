// One DNS question over UDP, for tests of the mesh DNS.
import * as dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';

// dns-packet decodes the response code as a name; its types leave it out.
export type DnsAnswer = dnsPacket.DecodedPacket & { rcode: string };

export function dnsQuery(host: string, port: number, name: string, type: 'A' | 'AAAA' = 'A', timeoutMs = 2000): Promise<DnsAnswer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no DNS answer for ${name} from ${host}:${port}`));
    }, timeoutMs);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(dnsPacket.decode(msg) as DnsAnswer);
    });
    socket.send(dnsPacket.encode({ type: 'query', id: Math.floor(Math.random() * 65535), flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }), port, host);
  });
}
