import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { repoRoot } from '../../test-support/repo-root';
import { loadModule } from './module-model';

// docs/deploy.md must let a reader deploy without guessing: every variable and
// every output of each example is in it, and so is each command.
describe('docs/deploy.md', () => {
  const root = repoRoot();
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

  // The whole flow, in docs/deploy.md and in the README's own section: the
  // secrets, the global tier first, join tokens from it, the regions, the
  // Region resources, and the check.
  const flow = [
    'cd terraform/examples/aws-multi-region',
    // The secrets go to SSM Parameter Store, where the nodes read them: never to Terraform.
    'aws ssm put-parameter --name /meridian/admin-token --type SecureString --value "$(openssl rand -hex 32)"',
    'aws ssm put-parameter --name /meridian/data-key --type SecureString --value "$(openssl rand -hex 32)"',
    'terraform init',
    'terraform plan -var-file=my.tfvars -target=module.global -out=global.tfplan',
    'terraform apply global.tfplan',
    'export MERIDIAN_SERVER=$(terraform output -raw admin_url) MERIDIAN_TOKEN=$(aws ssm get-parameter --name /meridian/admin-token --with-decryption',
    // The admin API is HTTPS with a certificate from the mesh root: the CLI pins it.
    'export MERIDIAN_CA_FINGERPRINT=',
    'aws ssm put-parameter --region eu-central-1 --name /meridian/fra/join-token --type SecureString --overwrite --value "$(meridian token create --region fra --ttl 2h)"',
    'terraform plan -var-file=my.tfvars -out=meridian.tfplan',
    'terraform apply meridian.tfplan',
    'terraform output -raw region_resources | meridian apply -f -',
    'meridian status',
  ];

  it('gives the exact commands, in order', () => {
    let at = 0;
    for (const command of flow) {
      const found = doc.indexOf(command, at);
      assert.ok(found >= 0, `${command} (after what comes before it)`);
      at = found + command.length;
    }
  });

  it("is what the README's \"Deploy to real regions\" runs too", () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const start = readme.indexOf('## Deploy to real regions');
    assert.ok(start >= 0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    let at = 0;
    for (const command of flow) {
      const found = section.indexOf(command, at);
      assert.ok(found >= 0, `README: ${command}`);
      at = found + command.length;
    }
    assert.match(section, /docs\/deploy\.md/);
  });
});
