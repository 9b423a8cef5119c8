'use strict';
// Each lib/*.js is one source with an .mjs face for browsers; the .mjs must
// re-export every name the CommonJS module has, and the script must define
// its global when loaded where `module` does not exist (as in a browser).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const lib = path.join(__dirname, '..', 'miniprogram', 'lib');

for (const [file, global] of [['wxsession', 'wxsession'], ['actions', 'yibiActions'], ['simplatform', 'yibiSimPlatform']]) {
  test(`${file}.mjs re-exports every name of ${file}.js`, () => {
    const names = Object.keys(require(path.join(lib, file + '.js'))).sort();
    const mjs = fs.readFileSync(path.join(lib, file + '.mjs'), 'utf8');
    assert.match(mjs, new RegExp(`import '\\./${file}\\.js';`));
    assert.match(mjs, new RegExp(`globalThis\\.${global}\\b`));
    const m = mjs.match(/export const \{([^}]*)\}/);
    assert.ok(m, 'no export const { … } list');
    const exported = m[1].split(',').map((s) => s.trim()).filter(Boolean).sort();
    assert.deepEqual(exported, names);
  });

  test(`${file}.js sets globalThis.${global} without module`, () => {
    const sandbox = { setTimeout, Promise, encodeURIComponent, JSON, Math, Number, String, Error, TypeError };
    sandbox.globalThis = sandbox;
    vm.runInNewContext(fs.readFileSync(path.join(lib, file + '.js'), 'utf8'), sandbox);
    assert.equal(typeof sandbox[global], 'object');
    assert.deepEqual(Object.keys(sandbox[global]).sort(), Object.keys(require(path.join(lib, file + '.js'))).sort());
  });
}
