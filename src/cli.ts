#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { loadConfig } from './infra/config';
import { createLogger, flushLogs } from './infra/observability/logger';
import { loadEnvFile } from './commands/env-file';
import { CommandError, describeFailure } from './commands/failures';
import { assertPortFree } from './commands/port-check';
import { packageVersion } from './infra/paths';

// Each command imports what it runs when it runs: the server's modules (the schema, the ORM, onnxruntime)
// took about 2 s to load, which `--version`, a wrong variable or `models pack` need not wait for.

/** The dotenv file read before the command ran (`--env-file`, DOTENV_PATH or ./.env), or null. */
let envFile: string | null = null;

/**
 * `dermagraph <command>`: one entry for the server, the worker and the admin tasks.
 * Each command loads the config itself so a wrong variable stops it with a clear message.
 */
function context() {
  const config = loadConfig();
  const logger = createLogger(config);
  if (envFile) logger.debug({ file: envFile }, 'environment file read');
  return { config, logger };
}

/** Runs a command; an expected failure prints one line (no stack), anything else its stack (src/commands/failures.ts). */
async function run(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const failure = describeFailure(err);
    process.stderr.write(failure.text);
    process.exit(failure.exitCode);
  }
}

const program = new Command('dermagraph')
  .description('Dermagraph: GraphQL API server for skin-lesion AI')
  .version(packageVersion, '-V, --version', 'print the version')
  .option(
    '--env-file <path>',
    'read variables from this file instead of ./.env (or DOTENV_PATH); the environment wins over the file',
  )
  // Before any command's action, so each command's config sees the file's variables.
  .hook('preAction', () =>
    run(async () => {
      envFile = loadEnvFile(program.opts<{ envFile?: string }>().envFile);
    }),
  );

program
  .command('serve')
  .description('run the API server (embedded PGlite and in-memory adapters unless DATABASE_URL / REDIS_URL are set)')
  .action(() =>
    run(async () => {
      const { config, logger } = context();
      await assertPortFree(config.PORT, config.HOST); // a taken port fails at once, before the database opens
      const { startServer } = await import('./app/start.js');
      const server = await startServer(config, { logger });
      server.stopOnSignals();
    }),
  );

program
  .command('worker')
  .description(
    'run inference jobs from the Redis queue (needs DATABASE_URL and REDIS_URL shared with the api processes)',
  )
  .action(() =>
    run(async () => {
      const { config, logger } = context();
      const [{ startWorker }, { ensureSecrets }] = await Promise.all([
        import('./app/worker.js'),
        import('./infra/config/secrets.js'),
      ]);
      // Signs result URLs: with the secret the api processes sharing DATA_DIR use.
      const worker = await startWorker(ensureSecrets(config), logger);
      const onSignal = (signal: string) => {
        logger.info({ signal }, 'signal received');
        worker.stop().then(
          () => flushLogs(logger).then(() => process.exit(0)),
          () => flushLogs(logger).then(() => process.exit(1)),
        );
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }),
  );

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(() =>
    run(async () => {
      const { config, logger } = context();
      const { migrate } = await import('./commands/migrations.js');
      await migrate(config, logger);
    }),
  );

program
  .command('migration:create')
  .argument('[name]', 'a word or two for the file name', 'change')
  .description('write a migration from the difference between the entities and the migrated database at DATABASE_URL')
  .action((name: string) =>
    run(async () => {
      const { config, logger } = context();
      const { createMigration } = await import('./commands/migrations.js');
      const file = await createMigration(config, logger, name);
      process.stdout.write(file ? `wrote migrations/${file}\n` : 'no changes\n');
    }),
  );

program
  .command('schema')
  .description('print the GraphQL schema (SDL) built from the resolvers; --write updates schema.graphql')
  .option('--write', 'write schema.graphql in the project root')
  .action((opts: { write?: boolean }) =>
    run(async () => {
      const { emitSchema } = await import('./schema/emit.js');
      const sdl = await emitSchema(opts.write ?? false);
      if (!opts.write) process.stdout.write(sdl);
    }),
  );

program
  .command('create-admin')
  .description(
    'create an ADMIN account (or promote an existing user); the password comes from ADMIN_PASSWORD or standard input',
  )
  .requiredOption('--email <email>', 'the admin’s email address')
  .option('--name <name>', 'display name')
  .action((opts: { email: string; name?: string }) =>
    run(async () => {
      const { config, logger } = context();
      const { createAdmin, readPasswordFromStdin } = await import('./commands/create-admin.js');
      const password = config.ADMIN_PASSWORD || (await readPasswordFromStdin());
      const admin = await createAdmin(config, logger, { email: opts.email, password, name: opts.name });
      process.stdout.write(`admin ${admin.email} (${admin.id}) is ready\n`);
    }),
  );

program
  .command('rotate-jwt-key')
  .description(
    'add a new signing key under DATA_DIR/keys; the previous one stays in the JWKS so issued tokens keep working',
  )
  .action(() =>
    run(async () => {
      const { config } = context();
      const { rotateKeys } = await import('./modules/accounts/index.js');
      const ring = await rotateKeys({
        privateKey: config.JWT_PRIVATE_KEY || undefined,
        keyDir: `${config.dataDir}/keys`,
      });
      process.stdout.write(`signing key ${ring.signing.kid}; JWKS: ${ring.keys.map((k) => k.kid).join(', ')}\n`);
    }),
  );

program
  .command('gc-files')
  .description(
    'delete files under DATA_DIR/files that no row references (left by a crash between storing files and committing rows), once older than FILE_GC_GRACE_MINUTES',
  )
  .option('--dry-run', 'only count what would be removed')
  .option('--grace-minutes <n>', 'only files at least this old (default FILE_GC_GRACE_MINUTES)')
  .action((opts: { dryRun?: boolean; graceMinutes?: string }) =>
    run(async () => {
      const { config, logger } = context();
      const grace = opts.graceMinutes === undefined ? undefined : Number(opts.graceMinutes);
      if (grace !== undefined && !(Number.isInteger(grace) && grace >= 0))
        throw new CommandError(`--grace-minutes: a whole number of minutes, got ${JSON.stringify(opts.graceMinutes)}`);
      const { formatGcReport, gcFiles } = await import('./commands/gc-files.js');
      const report = await gcFiles(config, logger, { dryRun: opts.dryRun, graceMinutes: grace });
      process.stdout.write(`${formatGcReport(report, opts.dryRun ?? false)}\n`);
    }),
  );

const models = program
  .command('models')
  .description('model packages: check one before uploading it, or pack a folder into an archive');
models
  .command('validate')
  .argument('<path>', 'a package folder, .zip or .tar.gz')
  .option(
    '--device <device>',
    'run the checks on this device (cpu, webgpu, cuda[:N], tensorrt[:N]); falls back to cpu like the server',
  )
  .description(
    'run every check the server runs on an upload (archive safety, manifest, sha256, ONNX load and I/O, golden cases); keeps nothing',
  )
  .action((path: string, opts: { device?: string }) =>
    run(async () => {
      const { validateCommand } = await import('./commands/models.js');
      const r = await validateCommand(path, opts);
      (r.ok ? process.stdout : process.stderr).write(r.text);
      process.exitCode = r.ok ? 0 : 1;
    }),
  );
models
  .command('pack')
  .argument('<dir>', 'the package folder')
  .argument('[archive]', 'archive to write (.zip, .tar.gz or .tgz); default <folder name>.zip here')
  .option('--out <file>', 'the same as [archive]')
  .description(
    "fill in the sha256 of every file in the folder's manifest.json, check the manifest, and write the archive",
  )
  .action((dir: string, archive: string | undefined, opts: { out?: string }) =>
    run(async () => {
      const { packCommand } = await import('./commands/models.js');
      const r = await packCommand(dir, { out: archive ?? opts.out });
      (r.ok ? process.stdout : process.stderr).write(r.text);
      process.exitCode = r.ok ? 0 : 1;
    }),
  );

// A reader that stops early (`dermagraph schema | head`) closes the pipe: that ends the command, it is no failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

program.parseAsync(process.argv);
