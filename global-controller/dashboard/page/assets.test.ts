import assert from 'node:assert/strict';
import * as vm from 'node:vm';
import { describe, it } from 'node:test';
import { loadDashboardAssets } from './assets';
import { LAND, WATER } from './world-outline';

describe('dashboard assets', () => {
  it('serve the compiled browser script as a plain script that starts the page on the world outline', () => {
    const js = loadDashboardAssets().get('/dashboard/app.js')?.body.toString('utf8') ?? '';
    // A classic script: module syntax would not parse here, nor in the page's <script src>.
    assert.doesNotThrow(() => new vm.Script(js, { filename: 'app.js' }));
    assert.match(js, /^function startDashboard\(world\) \{$/m);
    const call = /\nstartDashboard\((.*)\);\n$/.exec(js);
    assert.ok(call, 'the script ends with the call that starts it');
    assert.deepEqual(JSON.parse(call[1]), { land: LAND, water: WATER });
  });

  it('refuse to start without the compiled script, and say how to build it', () => {
    assert.throws(() => loadDashboardAssets('/nonexistent/dashboard/app.js'), /\/nonexistent\/dashboard\/app\.js: `npm run build` makes it/);
  });
});
