import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { ReportCoalescer } from './report-coalescer';

test('a burst of changes within the window is one report; a change after it is the next', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  let reports = 0;
  const coalescer = new ReportCoalescer(() => reports++, 20);
  for (let i = 0; i < 100; i++) {
    coalescer.changed();
    if (i % 10 === 9) mock.timers.tick(1);
  }
  assert.equal(reports, 0, 'nothing before the window ends');
  mock.timers.tick(10);
  assert.equal(reports, 1, '100 changes in 10 ms, one report');
  coalescer.changed();
  mock.timers.tick(19);
  assert.equal(reports, 1);
  mock.timers.tick(1);
  assert.equal(reports, 2);
});

test('a cancelled report is not sent, and the next change arms a new one', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  let reports = 0;
  const coalescer = new ReportCoalescer(() => reports++, 20);
  coalescer.changed();
  coalescer.cancel();
  mock.timers.tick(100);
  assert.equal(reports, 0);
  coalescer.changed();
  mock.timers.tick(20);
  assert.equal(reports, 1);
});
