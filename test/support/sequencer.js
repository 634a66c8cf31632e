// Runs the longest test files first, so that neither worker is left alone with a long file at the end.
// Jest's own sequencer does that from the durations it cached on this machine for this checkout; a fresh
// clone (CI) has none and would go by file size, which puts the short-but-slow files (the hot-swap soaks, the
// browser files) last. For files without a cached duration this falls back to test-durations.json, the
// seconds each file took in a recorded run (`node test/support/record-durations.js <jest --json output>`).
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const recorded = require('./test-durations.json');

class LongestFirstSequencer extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const seconds = recorded[path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/')];
    return seconds == null ? undefined : seconds * 1000;
  }
}

module.exports = LongestFirstSequencer;
