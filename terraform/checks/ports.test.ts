import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { PORTS } from '../../cli/bootstrap/layout';
import { repoRoot } from '../../test-support/repo-root';
import { parseHcl } from './hcl';

// The firewall rules (Terraform) and the units (meridian bootstrap) must agree
// on every port, or a node comes up with its doors in the wrong places.
describe('ports', () => {
  it('are the same in modules/meridian-node-config and cli/bootstrap/layout.ts', async () => {
    const file = path.join(repoRoot(), 'terraform/modules/meridian-node-config/main.tf');
    const doc = await parseHcl(file, fs.readFileSync(file, 'utf8'));
    const locals = Object.assign({}, ...(doc.locals as Array<Record<string, unknown>>)) as { ports: Record<string, number> };
    const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const terraform = Object.fromEntries(Object.entries(locals.ports).map(([k, v]) => [camel(k), v]));
    for (const [name, port] of Object.entries(PORTS)) {
      // The zone's discovery stream and the admin API's plaintext listener
      // are on loopback only: no rule needed.
      if (name === 'zoneGrpc' || name === 'adminLocal') continue;
      assert.equal(terraform[name], port, `${name}: terraform says ${terraform[name]}, bootstrap ${port}`);
    }
  });
});
