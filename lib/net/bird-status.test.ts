import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { isEstablished, parseBirdReply, parseShowProtocols, replyError } from './bird-status';

// `birdc -v show protocols` from BIRD 2.0.12, with our time format.
const SHOW_PROTOCOLS = `0001 BIRD 2.0.12 ready.
2002-Name       Proto      Table      State  Since         Info
1002-device1    Device     ---        up     2026-11-22_02:57:43  
     connected  Direct     ---        up     2026-11-22_02:57:43  
     kernel1    Kernel     master4    up     2026-11-22_02:57:43  
     bgp_fra    BGP        ---        up     2026-11-22_02:57:44  Established   
     bgp_us     BGP        ---        start  2026-11-22_02:57:44  Active        Socket: Connection refused
     bgp_ap     BGP        ---        start  2026-11-22_02:57:44  Connect
0000 
`;

test('parses show protocols rows, continued lines included', () => {
  const rows = parseShowProtocols(parseBirdReply(SHOW_PROTOCOLS));
  assert.deepEqual(
    rows.map((r) => [r.name, r.proto, r.table, r.state, r.info]),
    [
      ['device1', 'Device', '---', 'up', ''],
      ['connected', 'Direct', '---', 'up', ''],
      ['kernel1', 'Kernel', 'master4', 'up', ''],
      ['bgp_fra', 'BGP', '---', 'up', 'Established'],
      ['bgp_us', 'BGP', '---', 'start', 'Active Socket: Connection refused'],
      ['bgp_ap', 'BGP', '---', 'start', 'Connect'],
    ],
  );
  assert.deepEqual(rows.filter(isEstablished).map((r) => r.name), ['bgp_fra']);
});

test('a two-token time (another timeformat) stays out of the info', () => {
  const rows = parseShowProtocols(parseBirdReply('1002-bgp_eu     BGP        ---        up     2026-11-22 02:57:44.961  Established\n0000 \n'));
  assert.equal(rows[0]?.since, '2026-11-22 02:57:44.961');
  assert.equal(rows[0]?.info, 'Established');
  assert.equal(parseShowProtocols(parseBirdReply('1002-bgp_eu BGP --- up 02:57:44.961 Established\n'))[0]?.info, 'Established');
});

test('errors are told by their code', () => {
  assert.equal(replyError(parseBirdReply('0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /x/bird.conf\n0003 Reconfigured\n')), null);
  assert.equal(replyError(parseBirdReply('0001 BIRD 2.0.12 ready.\n0002-Reading configuration from /x/bad.conf\n8002 /x/bad.conf:1:1 syntax error, unexpected GARBAGE\n')), '/x/bad.conf:1:1 syntax error, unexpected GARBAGE');
  assert.equal(replyError(parseBirdReply('9001 syntax error\n')), 'syntax error');
  assert.throws(() => parseBirdReply('BIRD 2.0.12 ready.\n'), /without a code/);
});
