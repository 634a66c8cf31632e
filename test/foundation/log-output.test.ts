import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * stdout's log lines are buffered (src/infra/observability/logger.ts): written once 4 KB gather, and every
 * LOG_FLUSH_MS whatever has. Run in a child process of the built logger, so that its real stdout is what is read.
 */
const LOGGER = path.resolve(__dirname, '../../dist/src/infra/observability/logger.js');

/**
 * A child that logs `lines` lines and, when told to on its stdin, exits as the server does on a signal
 * (flushLogs, then process.exit); resolves with the lines of its stdout.
 * `exitWhen` decides, from the lines so far, when to tell it.
 */
function logChild(lines: number, exitWhen: (got: string[]) => boolean): Promise<string[]> {
  const script = `
    const { createLogger, flushLogs } = require(${JSON.stringify(LOGGER)});
    const log = createLogger({ LOG_LEVEL: 'info' });
    for (let i = 0; i < ${lines}; i++) log.info({ i }, 'line');
    process.stdin.on('data', () => flushLogs(log).then(() => process.exit(0)));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const got: string[] = [];
  let rest = '';
  let told = false;
  const tell = () => {
    if (told || !exitWhen(got)) return;
    told = true;
    child.stdin.write('exit\n');
  };
  child.stdout.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    got.push(...parts);
    tell();
  });
  tell();
  return new Promise((resolve, reject) => {
    // Not a timing assertion: a generous bound so that a child whose line never comes is stopped, not left behind.
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (code === 0) resolve(got);
      else reject(new Error(`child ended (${code ?? signal}) with ${got.length} line(s) on its stdout`));
    });
  });
}

describe('log lines on stdout', () => {
  jest.setTimeout(30_000);

  test('a single line reaches stdout while the process keeps running, not only at its exit', async () => {
    // The child exits only once its line has arrived: without the periodic flush it would wait forever.
    const got = await logChild(1, (lines) => lines.length > 0);
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0])).toMatchObject({ msg: 'line', i: 0, service: 'dermagraph' });
  });

  test('a burst of lines arrives whole and in order when the process exits right after it', async () => {
    const got = await logChild(500, () => true);
    expect(got.map((g) => JSON.parse(g).i)).toEqual([...Array(500).keys()]);
  });
});
