import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { renderUnit } from './systemd-unit';

describe('renderUnit', () => {
  it('keeps order, repeats keys, spells booleans and lists as systemd does, skips unset values', () => {
    const text = renderUnit({
      name: 'x.service',
      comment: 'X.',
      sections: [
        { name: 'Unit', entries: [['Description', 'x'], ['Requires', undefined]] },
        { name: 'Service', entries: [['ExecStart', '/bin/a'], ['ExecStart', '/bin/b'], ['RemainAfterExit', true], ['After', ['a', 'b']]] },
      ],
    });
    assert.equal(
      text,
      '# X.\n# Written by `meridian bootstrap`; run it again rather than editing this file.\n\n' +
        '[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/a\nExecStart=/bin/b\nRemainAfterExit=yes\nAfter=a b\n',
    );
  });

  it('refuses a value that would break the file', () => {
    assert.throws(() => renderUnit({ name: 'x', comment: 'x', sections: [{ name: 'Service', entries: [['ExecStart', 'a\nb']] }] }), /cannot span lines/);
  });
});
