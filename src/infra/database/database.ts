import { MikroORM, defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Config } from '../config';
import { entities } from '../../entities';
import { migrationsList } from '../../../migrations';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { shareReads } from './shared-reads';
import { writeStringsWhole } from './pg-literal';
import type { Logger } from '../observability/logger';

export interface Database {
  orm: MikroORM;
  url: string;
  embedded: boolean;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OrmOptions {
  poolMax?: number;
  schema?: string;
  /** Called with every SQL statement; tests count statements with it. */
  onQuery?: (sql: string) => void;
}

/** The one MikroORM configuration, for the server, the CLI and the tests. */
export function ormConfig(url: string, opts: OrmOptions = {}): Options {
  return defineConfig({
    clientUrl: url,
    entities,
    schema: opts.schema,
    extensions: [Migrator],
    pool: { min: 0, max: opts.poolMax ?? 10 },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    discovery: { warnWhenNoEntities: false },
    debug: opts.onQuery ? ['query'] : false,
    logger: opts.onQuery ? (msg) => opts.onQuery!(msg) : () => undefined,
    migrations: {
      migrationsList,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      tableName: 'mikro_orm_migrations',
      path: 'migrations',
      pathTs: 'migrations',
      emit: 'ts',
    },
  });
}

/**
 * Connects to DATABASE_URL, or starts embedded PGlite when it is unset, and applies pending
 * migrations (all or nothing).
 */
export async function openDatabase(
  config: Config,
  logger: Logger,
  opts: OrmOptions & { migrate?: boolean } = {},
): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.DATABASE_URL;
  if (config.embeddedDatabase) {
    embedded = await startEmbeddedPostgres(config.dataDir, logger);
    url = embedded.url;
  }
  try {
    const orm = await MikroORM.init(
      ormConfig(url, {
        poolMax: embedded ? 1 : config.DATABASE_POOL_MAX,
        schema: config.DATABASE_SCHEMA === 'public' ? undefined : config.DATABASE_SCHEMA,
        ...opts,
      }),
    );
    writeStringsWhole(orm.em.getPlatform());
    // One session, so one connection: concurrent requests' reads share its round trips.
    if (embedded) shareReads(orm.em);
    if (opts.migrate !== false) {
      const applied = await orm.getMigrator().up();
      if (applied.length) logger.info({ migrations: applied.map((m) => m.name) }, 'applied migrations');
    }
    return {
      orm,
      url,
      embedded: !!embedded,
      async ping() {
        try {
          await orm.em.fork().getConnection().execute('select 1');
          return true;
        } catch {
          return false;
        }
      },
      async close() {
        await orm.close(true);
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
}
