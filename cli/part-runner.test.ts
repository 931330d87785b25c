import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';

import { CliError } from './errors';
import { runPart } from './part-runner';

const fixtureDirs: string[] = [];

function fixture(source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-part-'));
  fixtureDirs.push(dir);
  const file = path.join(dir, 'main.js');
  fs.writeFileSync(file, source);
  return file;
}

describe('runPart', () => {
  afterEach(() => {
    process.exitCode = undefined;
    for (const dir of fixtureDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says the part is not in this build when its module is absent', async () => {
    await assert.rejects(runPart('edge', './no-such-part/main', []), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.deepEqual(err.lines, ['edge is not available in this build']);
      return true;
    });
  });

  it('lets a missing dependency inside the part through as it is', async () => {
    const file = fixture("require('meridian-no-such-dependency');\nexports.main = () => undefined;\n");
    await assert.rejects(runPart('edge', file, []), (err: unknown) => {
      assert.ok(!(err instanceof CliError));
      assert.match((err as Error).message, /meridian-no-such-dependency/);
      return true;
    });
  });

  it('passes the arguments and takes a numeric result as the exit code', async () => {
    const file = fixture('exports.main = async (argv) => { exports.seen = argv; return 3; };\n');
    await runPart('demo', file, ['--fast']);
    assert.deepEqual((require(file) as { seen: string[] }).seen, ['--fast']);
    assert.equal(process.exitCode, 3);
  });
});
