import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { findRepoRoot } from '../../cli/testing/repo-root';
import { loadModule } from './module-model';

// docs/deploy.md must let a reader deploy without guessing: every variable and
// every output of each example is in it, and so is each command.
describe('docs/deploy.md', () => {
  const root = findRepoRoot();
  const doc = fs.readFileSync(path.join(root, 'docs/deploy.md'), 'utf8');

  for (const example of ['aws-multi-region', 'bare-metal-bgp']) {
    it(`describes every variable and output of examples/${example}`, async () => {
      const mod = await loadModule(path.join(root, 'terraform/examples', example));
      const section = doc.slice(doc.indexOf(`terraform/examples/${example}`));
      for (const name of [...mod.variables.keys(), ...mod.outputs.keys()]) {
        assert.match(section, new RegExp(`\\|\\s*\`${name}\`\\s*\\|`), `${example}: ${name} has no row in a table`);
      }
    });
  }

  it('gives the exact terraform commands', () => {
    for (const command of [
      'cd terraform/examples/aws-multi-region',
      'terraform init',
      'terraform plan -var-file=',
      'terraform apply',
      'meridian token create --region fra',
      'terraform output -raw region_resources | meridian apply -f -',
    ]) {
      assert.ok(doc.includes(command), command);
    }
  });
});
