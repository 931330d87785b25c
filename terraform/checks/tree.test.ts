import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { repoRoot } from '../../test-support/repo-root';
import { checkTerraformTree, moduleDirs } from './check-tree';

const TERRAFORM = path.join(repoRoot(), 'terraform');

describe('terraform/', () => {
  it('has the modules and examples of the deployment guide', () => {
    const dirs = moduleDirs(TERRAFORM).map((d) => path.relative(TERRAFORM, d));
    for (const dir of [
      'modules/meridian-global',
      'modules/meridian-region',
      'modules/meridian-node-config',
      'examples/aws-multi-region',
      'examples/bare-metal-bgp',
    ]) {
      assert.ok(dirs.includes(dir), `${dir} is missing (found ${dirs.join(', ')})`);
    }
  });

  it('parses every .tf and .tfvars file, and every reference, input and output resolves', async () => {
    const report = await checkTerraformTree(TERRAFORM);
    assert.deepEqual(report.problems.map((p) => `${p.file}: ${p.message}`), []);
    const tfFiles = report.modules.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.tf')));
    assert.ok(tfFiles.length >= 20, `only ${tfFiles.length} .tf files`);
    assert.equal(report.tfvars.length, 2);
  });
});
