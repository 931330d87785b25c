// The whole of a bootstrap, in order, for one role: packages, the service
// user, configuration and secrets, keys, units, then systemd. Nothing here
// touches the machine; apply-files.ts and the action steps do.
import { randomBytes } from 'node:crypto';

import { publicKeyOf } from '../../lib/net/wireguard-keys';
import { openWireGuardKey, sealWireGuardKey } from './wireguard-key';
import {
  BIRD_CONFIG,
  DATA_KEY_FILE,
  EDGE_CERT_DIR,
  EDGE_DEFAULT_CERT,
  EDGE_DEFAULT_KEY,
  ENV_FILE,
  JOIN_TOKEN_FILE,
  PROXY_TOKEN_FILE,
  STATE_KEY_FILE,
  SYSUSERS_FILE,
  TOKENS_FILE,
  UNIT_DIR,
  WIREGUARD_DIR,
  WIREGUARD_PRIVATE_KEY,
  WIREGUARD_PUBLIC_KEY,
  WIREGUARD_SEALED_KEY,
  ZONE_STATE_DIR,
} from './layout';
import {
  nodeEnv,
  proxyTokenPins,
  renderBirdSeed,
  renderDataKey,
  renderEnv,
  renderJoinToken,
  renderProxyToken,
  renderSysusers,
  renderTokens,
} from './node-config';
import type { BootstrapOptions } from './options';
import { packagesStep } from './packages';
import { placeholderCertificate, placeholderKey } from './placeholder-certificate';
import { serviceUserStep, servicesStep } from './services';
import type { Step } from './steps';
import { renderUnit } from './systemd-unit';
import { maskedUnitsFor, unitsFor } from './units';

const SECRET = 0o600;
const PUBLIC = 0o644;

export function buildPlan(opts: BootstrapOptions): Step[] {
  const steps: Step[] = [
    packagesStep(opts),
    { kind: 'file', path: SYSUSERS_FILE, mode: PUBLIC, content: renderSysusers() },
    serviceUserStep(),
    { kind: 'file', path: ENV_FILE, mode: PUBLIC, content: renderEnv(nodeEnv(opts)) },
  ];
  // Files every unit of the role reads: a change restarts the unit.
  const roleReads = [ENV_FILE];
  const extraReads: Record<string, string[]> = {};

  if (opts.role === 'region') {
    steps.push(
      { kind: 'file', path: JOIN_TOKEN_FILE, mode: SECRET, content: renderJoinToken(opts.joinToken!), secret: true },
      // The region's proxy token, made here and kept: the zone controller
      // serves discovery over mTLS with it (--proxy-token-file), its edge and
      // ingress pin the root with it and get their first leaf
      // (--zone-token-file). Made again only when the join token names
      // another root (after a root rotation).
      {
        kind: 'file',
        path: PROXY_TOKEN_FILE,
        mode: SECRET,
        content: () => renderProxyToken(opts.rootFingerprint!),
        secret: true,
        keepExisting: true,
        keepIf: (existing) => proxyTokenPins(existing, opts.rootFingerprint!),
        verb: 'generating',
      },
      // The zone controller's state directory (systemd hands it to the
      // service user on first start); its region CA and tunnel key live here.
      { kind: 'dir', path: ZONE_STATE_DIR, mode: 0o700 },
      { kind: 'dir', path: WIREGUARD_DIR, mode: 0o700 },
      // The state key, made here and kept: the zone controller seals its
      // zone CA key and WireGuard key with it (--state-key-file).
      { kind: 'file', path: STATE_KEY_FILE, mode: SECRET, content: () => `${randomBytes(32).toString('hex')}\n`, secret: true, keepExisting: true, verb: 'generating' },
      // Made here (lib/net, wg's formats) and sealed with the state key where
      // the zone controller opens it, and kept: the private key never leaves
      // the node, nor is written in the clear. A key an older version left
      // in the clear is the one sealed.
      {
        kind: 'file',
        path: WIREGUARD_SEALED_KEY,
        mode: SECRET,
        content: (effective) => sealWireGuardKey(opts.region!, effective(STATE_KEY_FILE)!, effective(WIREGUARD_PRIVATE_KEY)),
        secret: true,
        keepExisting: true,
        verb: 'generating',
      },
      {
        kind: 'file',
        path: WIREGUARD_PUBLIC_KEY,
        mode: PUBLIC,
        content: (effective) => `${publicKeyOf(openWireGuardKey(opts.region!, effective(STATE_KEY_FILE)!, effective(WIREGUARD_SEALED_KEY)!))}\n`,
        verb: 'deriving',
      },
      { kind: 'file', path: BIRD_CONFIG, mode: PUBLIC, content: renderBirdSeed(opts), keepExisting: true, verb: 'seeding' },
      // The edge needs a certificate to listen on 443; real ones go next to it.
      { kind: 'dir', path: EDGE_CERT_DIR, mode: 0o700 },
      { kind: 'file', path: EDGE_DEFAULT_KEY, mode: SECRET, content: () => placeholderKey(), secret: true, keepExisting: true, verb: 'generating' },
      {
        kind: 'file',
        path: EDGE_DEFAULT_CERT,
        mode: PUBLIC,
        content: (effective) => placeholderCertificate(effective(EDGE_DEFAULT_KEY)!, opts.nodeName, opts.publicAddress),
        keepExisting: true,
        renewWith: EDGE_DEFAULT_KEY,
        verb: 'generating',
      },
    );
    extraReads['meridian-zone-controller.service'] = [JOIN_TOKEN_FILE, PROXY_TOKEN_FILE, STATE_KEY_FILE, WIREGUARD_SEALED_KEY];
    extraReads['meridian-edge.service'] = [PROXY_TOKEN_FILE];
    extraReads['meridian-ingress.service'] = [PROXY_TOKEN_FILE];
  } else {
    // A given admin token or data key is kept in step with its flag; without
    // one, it is made once and stays (read it on the node: it is never
    // printed). Every global node needs the same data key.
    const token = opts.adminToken ?? randomBytes(32).toString('hex');
    const dataKey = opts.dataKey ?? randomBytes(32).toString('hex');
    steps.push(
      { kind: 'file', path: TOKENS_FILE, mode: SECRET, content: renderTokens(token), secret: true, keepExisting: opts.adminToken === undefined },
      { kind: 'file', path: DATA_KEY_FILE, mode: SECRET, content: renderDataKey(dataKey), secret: true, keepExisting: opts.dataKey === undefined },
    );
    extraReads['meridian-global-controller.service'] = [TOKENS_FILE, DATA_KEY_FILE];
  }

  const units = unitsFor(opts);
  for (const unit of units) steps.push({ kind: 'file', path: `${UNIT_DIR}/${unit.name}`, mode: PUBLIC, content: renderUnit(unit) });
  const masked = maskedUnitsFor(opts);
  for (const name of masked) steps.push({ kind: 'link', path: `${UNIT_DIR}/${name}`, target: '/dev/null', verb: 'masking' });

  steps.push(
    servicesStep(
      units.map((u) => ({ name: u.name, reads: [`${UNIT_DIR}/${u.name}`, ...roleReads, ...(extraReads[u.name] ?? [])] })),
      masked,
    ),
  );
  return steps;
}
