/**
 * Jest environment for tests that read onnxruntime-node outputs. Jest runs each test file in its
 * own vm realm, so the typed arrays the native binding returns (made in Node's main realm) fail
 * onnxruntime-common's `data instanceof Float32Array` check ("A float32 tensor's data must be
 * type of function Float32Array()"). Using the main realm's typed-array constructors inside the
 * test realm makes both sides agree. Select it per file with a docblock:
 *   /** @jest-environment ./src/inference/__fixtures__/ort-environment.js *\/
 */
const { TestEnvironment } = require('jest-environment-node');

const TYPED = ['ArrayBuffer', 'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array',
  'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED) this.global[name] = globalThis[name];
  }
}

module.exports = OrtEnvironment;
