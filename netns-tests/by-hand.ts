// The lab with Meridian running, for a person: builds the namespaces, BGP,
// and the whole mesh (lab/meridian-stack.ts), prints how to reach it, and
// keeps it until Ctrl-C or --minutes have passed; then tears everything down.
//   node dist/netns-tests/by-hand.js [--minutes 30] [--with-syd]
// As root. --with-syd builds the syd host too (Meridian not started there),
// for trying a fourth region by hand.
import { parseArgs } from 'node:util';
import { Lab, type Region } from './lab';
import { meridianBin } from '../lib/process/meridian-bin';
import { MeridianStack, PORTS } from './lab/meridian-stack';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, 'with-syd': { type: 'boolean' } } });
  const minutes = Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error('--minutes: a positive number');
  const regions: Region[] = values['with-syd'] ? ['fra', 'iad', 'sin', 'syd'] : ['fra', 'iad', 'sin'];
  const lab = await Lab.create({ wireguard: false, announceAnycast: false, regions });
  let stack: MeridianStack | undefined;
  try {
    stack = await MeridianStack.start(lab, { regions: ['fra', 'iad', 'sin'], only: ['iad'] });
    const p = lab.prefix;
    const a = lab.addresses;
    const bin = meridianBin();
    const ns = (n: string) => `ip netns exec ${p}-${n}`;
    process.stdout.write(`
Meridian lab ${p} is up (${stack.timings.totalMs} ms). Files and logs: ${lab.dir}
Tears down in ${minutes} min, or on Ctrl-C.

  admin API        ${stack.adminUrl} (from inside the namespaces; mesh root ${stack.rootFingerprint}), token ${stack.adminToken}
  anycast          ${a.anycast}:80, edges edge-fra, edge-iad, edge-sin (admin 127.0.0.1:${PORTS.edgeAdmin} in each region)
  per region       zone controller 127.0.0.1:${PORTS.zoneHttp}, ingress <tunnel address>:${PORTS.ingress}, echo 127.0.0.1:${PORTS.echo.join(', ')}
  tunnel addresses ${regions.map((r) => `${r} ${a.regions[r].tunnel}`).join(', ')}

Try:
  ${ns('eu-client')} curl -si -H 'host: echo.mesh' http://${a.anycast}/ | grep -i x-meridian
  ${ns('ap-client')} curl -s -H 'host: only-iad.mesh' http://${a.anycast}/
  # a workload on fra's instance network: <service>.mesh at the zone DNS, then the mesh listener
  ${ns('fra-workload')} node -e "const r = new (require('dns').Resolver)(); r.setServers(['${a.regions.fra.instanceNetwork.host}:${PORTS.dns}']); r.resolve4('echo.mesh', (e, x) => console.log(e ?? x))"
  ${ns('fra-workload')} curl -si -H 'host: echo.mesh' http://${a.regions.fra.instanceNetwork.host}/ | grep -i x-meridian
  ${ns('fra')} env MERIDIAN_SERVER=${stack.adminUrl} MERIDIAN_CA_FINGERPRINT=${stack.rootFingerprint} MERIDIAN_TOKEN=${stack.adminToken} node ${bin} status
  ${ns('fra')} wg show ${a.regions.fra.wgIfname}
  ${ns('fra')} curl -s 127.0.0.1:${PORTS.edgeAdmin}/healthz
  birdc -s ${lab.birdPaths('eu').socket} show route for ${a.anycast}/32 all
  # break the fra—iad tunnel, watch fra relay through sin, then mend it:
  ${ns('fra')} iptables -A OUTPUT -p udp -d ${a.regions.iad.underlay} --dport ${a.wgPort} -j DROP
  ${ns('fra')} curl -s 127.0.0.1:${PORTS.edgeAdmin}/v1/view | grep -A3 relayVia
  ${ns('fra')} iptables -D OUTPUT -p udp -d ${a.regions.iad.underlay} --dport ${a.wgPort} -j DROP
`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, minutes * 60_000);
      process.once('SIGINT', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } finally {
    process.stdout.write('tearing down...\n');
    await stack?.stop().catch(() => undefined);
    await lab.teardown();
    const left = lab.leftovers();
    process.stdout.write(left.length ? `left behind: ${left.join(', ')}\n` : 'nothing left behind\n');
  }
}

main().catch((err: Error) => {
  process.stderr.write(`error: ${err.message}\n`);
  process.exitCode = 1;
});
