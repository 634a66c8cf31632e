// Adds lock entries for the other platforms' optional native packages (@swc/core-darwin-arm64, ...).
// The npm registry reachable here does not serve them, so `npm install` leaves them out of
// package-lock.json, and `npm ci` then refuses the lock as out of sync ("Missing: ... from lock file").
// An entry with its os/cpu is enough: npm ci skips packages for other platforms without fetching them.
// Run after any `npm install` that changes the lock: `node scripts/complete-lockfile.mjs`.
import fs from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const pkgs = lock.packages;
const platform = /-(darwin|linux|win32|android|freebsd|openharmony)-(arm64|x64|ia32|arm|ppc64|s390x|riscv64|loong64)/;
let added = 0;
for (const [path, meta] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const top = `node_modules/${dep}`;
    if (pkgs[top] || pkgs[`${path}/node_modules/${dep}`]) continue;
    const m = dep.match(platform);
    if (!m) continue;
    const entry = { version: range.replace(/^[\^~=]/, ''), cpu: [m[2]], optional: true, os: [m[1]] };
    if (meta.dev) entry.dev = true;
    if (meta.license) entry.license = meta.license;
    if (dep.includes('-musl')) entry.libc = ['musl'];
    else if (dep.includes('-gnu')) entry.libc = ['glibc'];
    pkgs[top] = entry;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} entries for other platforms`);
