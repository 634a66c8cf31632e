// Writes test-durations.json (relative path -> seconds, rounded) from a `jest --json --outputFile=F` run:
//   npx jest --json --outputFile=/tmp/jest.json && node test/support/record-durations.js /tmp/jest.json
const fs = require('node:fs');
const path = require('node:path');

const file = process.argv[2];
if (!file) throw new Error('usage: node test/support/record-durations.js <jest --json output>');
const root = path.resolve(__dirname, '../..');
const { testResults } = JSON.parse(fs.readFileSync(file, 'utf8'));
const entries = testResults
  .map((t) => [path.relative(root, t.name).split(path.sep).join('/'), Math.round((t.endTime - t.startTime) / 100) / 10])
  .sort(([a], [b]) => a.localeCompare(b));
fs.writeFileSync(
  path.join(__dirname, 'test-durations.json'),
  `${JSON.stringify(Object.fromEntries(entries), null, 2)}\n`,
);
console.log(`recorded ${entries.length} files`);
