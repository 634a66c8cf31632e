import fs from 'node:fs';
import path from 'node:path';

/** The folder holding dermagraph's package.json, whether running from src/ (Jest) or dist/ (built). */
export const projectRoot: string = (() => {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'dermagraph') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the dermagraph package root');
    dir = up;
  }
})();

export const packageVersion: string = JSON.parse(
  fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8'),
).version;
