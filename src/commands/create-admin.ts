import type { Config } from '../infra/config';
import { ensureSecrets } from '../infra/config/secrets';
import { AppError } from '../infra/errors';
import { CommandError } from './failures';
import { acceptableAdminInput, createAccountsModule } from '../modules/accounts';
import { openDatabase } from '../infra/database/database';
import type { Logger } from '../infra/observability/logger';

/**
 * `dermagraph create-admin --email ...`: makes an ADMIN account (or promotes an existing user),
 * with a verified email. The password comes from ADMIN_PASSWORD or standard input, never argv
 * (which other users of the machine can read in the process list).
 */
export async function createAdmin(
  config: Config,
  logger: Logger,
  input: { email: string; password: string; name?: string },
): Promise<{ id: string; email: string }> {
  let db: Awaited<ReturnType<typeof openDatabase>> | null = null;
  try {
    // Checked again by the service; here first, so that a refused address or password answers before the
    // database opens (an embedded one is migrated first, which takes seconds).
    acceptableAdminInput(input);
    db = await openDatabase(config, logger);
    const orm = db.orm;
    const { userAdmin } = await createAccountsModule({
      config: ensureSecrets(config),
      forkEm: () => orm.em.fork(),
      redis: null,
      logger,
    });
    const user = await userAdmin.createAdmin(orm.em.fork(), input);
    return { id: user!.id, email: user!.email };
  } catch (err) {
    // The policy's and the conflict's messages are meant for a person: print them, not a stack.
    if (err instanceof AppError)
      throw new CommandError(`${err.message}${err.extensions.field ? ` (${String(err.extensions.field)})` : ''}`);
    throw err;
  } finally {
    await db?.close();
  }
}

/** The first line of standard input; on a terminal, asks without echoing what is typed. */
export async function readPasswordFromStdin(prompt = 'Password: '): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let data = '';
    for await (const chunk of stdin) {
      data += chunk;
      if (data.includes('\n')) break;
    }
    return data.split(/\r?\n/)[0];
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (ch: string) => {
      for (const c of ch) {
        if (c === '\r' || c === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return resolve(value);
        }
        if (c === '\u0003') {
          stdin.setRawMode(false);
          return reject(new CommandError('cancelled'));
        }
        if (c === '\u007f') value = value.slice(0, -1);
        else value += c;
      }
    };
    stdin.on('data', onData);
  });
}
