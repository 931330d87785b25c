// The five failures of the bench, each with what it breaks, how it heals and
// where traffic should be meanwhile (lab: eu client -> anycast -> edge-fra).
import type { MeridianStack } from '../../netns-tests/lab/meridian-stack';
import { onlyService } from '../../netns-tests/lab/lab-resources';
import type { FailureSpec } from './failure-run';
import type { FailureName } from './options';

// Every zone online in the global controller's view.
async function zonesOnline(stack: MeridianStack): Promise<void> {
  await stack.waitFor('every zone online again', async () => {
    const view = await stack.regionsView();
    return ['fra', 'iad', 'sin'].every((r) => view.find((z) => z.region === r)?.online);
  }, 60_000, 100);
}

// The admin API accepts a write (it reaches etcd).
async function writesAccepted(stack: MeridianStack): Promise<void> {
  let n = 0;
  await stack.waitFor('a write accepted', async () => {
    const body = JSON.stringify([{ apiVersion: 'meridian.dev/v1', kind: 'Service', metadata: { name: `bench-write-${n++}` }, spec: {} }]);
    const res = await stack.http('global').request(`${stack.adminUrl}/v1/apply`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body,
      timeoutMs: 2000,
    });
    return res.status === 200;
  }, 60_000, 100);
}

export function failureSpec(name: FailureName, stack: MeridianStack): FailureSpec {
  const via = (r: { via?: string }) => (r.via ?? '').split(', ');
  const sinTunnel = stack.lab.addresses.regions.sin.tunnel;
  switch (name) {
    case 'region-instances': {
      let restore: (() => Promise<void>) | undefined;
      return {
        name,
        what: "fra's two echo instances SIGKILLed; healed: started and registered again",
        host: 'echo.mesh',
        steady: (r) => r.ok && r.region === 'fra',
        moved: (r) => r.ok && r.region === 'iad',
        movedTo: 'iad (through edge-fra and the tunnel)',
        inflict: async () => void (restore = await stack.killEchos('fra')),
        heal: async () => restore?.(),
      };
    }
    case 'edge-drain':
      return {
        name,
        what: 'SIGTERM to edge-fra (withdraws the anycast route, drains, exits); healed: edge-fra started again',
        host: 'echo.mesh',
        steady: (r) => r.ok && r.edge === 'edge-fra',
        moved: (r) => r.ok && r.edge === 'edge-iad',
        movedTo: 'edge-iad (BGP moves the anycast route to us)',
        inflict: async () => void stack.partsOf('fra').edge!.child.kill('SIGTERM'),
        heal: async () => {
          await stack.partsOf('fra').edge!.exited;
          await stack.startEdge('fra');
        },
      };
    case 'tunnel-break':
      return {
        name,
        what: 'WireGuard between fra and iad dropped (iptables in fra); healed: rules removed',
        host: `${onlyService('iad')}.mesh`,
        steady: (r) => r.ok && r.region === 'iad' && !via(r).includes(sinTunnel),
        moved: (r) => r.ok && r.region === 'iad' && via(r).includes(sinTunnel),
        movedTo: 'iad relayed through ingress-sin',
        inflict: () => stack.blockTunnel('fra', 'iad', true),
        heal: () => stack.blockTunnel('fra', 'iad', false),
      };
    case 'global-controller':
      return {
        name,
        what: 'the global controller SIGKILLed, down for the outage; healed: started again',
        host: 'echo.mesh',
        steady: (r) => r.ok && r.region === 'fra',
        inflict: async () => void (await stack.controller!.stop('SIGKILL')),
        heal: () => stack.startGlobalController(),
        whole: () => zonesOnline(stack),
        wholeMeans: 'controller up -> every zone online again',
      };
    case 'etcd-restart':
      return {
        name,
        what: 'etcd stopped (SIGTERM), down for the outage, started again on its data',
        host: 'echo.mesh',
        steady: (r) => r.ok && r.region === 'fra',
        inflict: () => stack.stopEtcd(),
        heal: () => stack.startEtcd(),
        whole: async () => {
          await writesAccepted(stack);
          await zonesOnline(stack);
        },
        wholeMeans: 'etcd healthy -> a write accepted and every zone online',
      };
  }
}
