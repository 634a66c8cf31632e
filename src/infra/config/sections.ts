import type { Config } from './env';

/**
 * Which part of the system each setting belongs to: every key of `Config` (each environment variable
 * and each value derived from them) is listed in exactly one section; the check at the end of this file
 * and test/foundation/config.test.ts fail when a new variable is added without a section.
 *
 * Sections keep the variables' own names (`DATABASE_POOL_MAX`, not `database.poolMax`): one name is
 * used in .env, the README and the code, so a grep finds every use. A section type is a `Pick` of
 * `Config`, so a module declares `config: DatabaseConfig` and its callers still pass the whole config;
 * the types then say which settings a module reads, without a second copy of the values.
 */
export const SECTION_KEYS = {
  /** The process: environment and how long a graceful shutdown may take. */
  runtime: ['NODE_ENV', 'isProduction', 'SHUTDOWN_TIMEOUT_MS'],
  /** Logs. */
  observability: ['LOG_LEVEL', 'LOG_RING_SIZE', 'MONITOR_INTERVAL_MS'],
  /** The HTTP listener and how the server is reached from outside (links in mails and signed URLs). */
  http: [
    'PORT',
    'HOST',
    'PUBLIC_URL',
    'publicUrlFromPort',
    'CORS_ORIGINS',
    'TRUST_PROXY',
    'HTTP_KEEP_ALIVE_TIMEOUT_MS',
    'WORKER_HTTP_PORT',
  ],
  /** Limits on GraphQL documents, and whether GraphiQL and field suggestions are served. */
  graphql: [
    'GRAPHQL_MAX_DEPTH',
    'GRAPHQL_MAX_ALIASES',
    'GRAPHQL_MAX_COST',
    'GRAPHQL_MAX_TOKENS',
    'GRAPHIQL',
    'graphiqlEnabled',
  ],
  /** Limits on graphql-ws sockets and subscriptions. */
  websocket: ['WS_MAX_SUBSCRIPTIONS_PER_SOCKET', 'WS_MAX_SOCKETS_PER_USER', 'WS_MAX_SOCKETS_PER_IP'],
  /** Files on disk (the data directory) and the signed URLs that serve them. */
  storage: [
    'DATA_DIR',
    'dataDir',
    'URL_SIGNING_SECRET',
    'SIGNED_URL_TTL_SECONDS',
    'FILE_GC_INTERVAL_MINUTES',
    'FILE_GC_GRACE_MINUTES',
  ],
  /** PostgreSQL, or the embedded PGlite under DATA_DIR when DATABASE_URL is unset. */
  database: ['DATABASE_URL', 'DATABASE_POOL_MAX', 'DATABASE_SCHEMA', 'embeddedDatabase'],
  /** Redis for pub/sub, rate limits and the job queue; unset: in memory, one process only. */
  redis: ['REDIS_URL', 'REDIS_PREFIX'],
  /** Outgoing mail; SMTP_URL unset: the outbox table and the log. */
  mail: ['SMTP_URL', 'MAIL_FROM'],
  /** Accounts: the first administrator, tokens, two-factor secrets, verification and reset links. */
  auth: [
    'ADMIN_EMAIL',
    'ADMIN_PASSWORD',
    'JWT_PRIVATE_KEY',
    'JWT_ISSUER',
    'JWT_AUDIENCE',
    'JWT_ACCESS_TTL_SECONDS',
    'JWT_REFRESH_TTL_DAYS',
    'TOTP_ENCRYPTION_KEY',
    'ALLOW_UNVERIFIED_LOGIN',
    'EMAIL_VERIFICATION_TTL_HOURS',
    'PASSWORD_RESET_TTL_MINUTES',
    'INVITATION_TTL_HOURS',
    'ACCOUNT_DELETION_PATIENTS',
  ],
  /** Limits on what one request may upload: images and model packages. */
  uploads: [
    'UPLOAD_MAX_FILE_BYTES',
    'UPLOAD_MAX_FILES',
    'UPLOAD_MEMORY_BYTES',
    'UPLOAD_MAX_PIXELS',
    'MODEL_PACKAGE_MAX_BYTES',
  ],
  /** Monthly quotas per plan. */
  quotas: [
    'QUOTA_FREE_UPLOADS_PER_MONTH',
    'QUOTA_FREE_PREDICTIONS_PER_MONTH',
    'QUOTA_FREE_SEGMENTATIONS_PER_MONTH',
    'QUOTA_PRO_UPLOADS_PER_MONTH',
    'QUOTA_PRO_PREDICTIONS_PER_MONTH',
    'QUOTA_PRO_SEGMENTATIONS_PER_MONTH',
  ],
  /** The model registry: where packages live, hot swap, the default classifier. */
  models: ['MODEL_DIR', 'MODEL_WATCH', 'DEFAULT_CLASSIFIER', 'API_LOAD_MODELS'],
  /** The inference job runner: modes, concurrency, retries, locks, image work off the event loop, and `wait: true`. */
  jobs: [
    'JOB_MODE',
    'JOB_CONCURRENCY',
    'JOB_IMAGE_CONCURRENCY',
    'JOB_ATTEMPTS',
    'JOB_LOCK_MS',
    'JOB_WAIT_TIMEOUT_MS',
    'SEGMENT_MAX_PIXELS_IN_FLIGHT',
    'IMAGE_THREADS',
  ],
  /** Thresholds that grade a segmented lesion's severity (docs/ explains the table). */
  severity: [
    'SEVERITY_SMALL_AREA_PERCENT',
    'SEVERITY_LARGE_AREA_PERCENT',
    'SEVERITY_HIGH_CIRCULARITY',
    'SEVERITY_LOW_CIRCULARITY',
  ],
  /** When a classification abstains: the confidence margin and the image-quality limits (docs/inference.md). */
  abstain: [
    'ABSTAIN_MARGIN',
    'QUALITY_MIN_SHARPNESS',
    'QUALITY_MAX_SHARPNESS',
    'QUALITY_MIN_BRIGHTNESS',
    'QUALITY_MAX_DARK_FRACTION',
    'QUALITY_MAX_BRIGHT_FRACTION',
    'QUALITY_MIN_SKIN_FRACTION',
  ],
  /** Report exports ([10]): the PDF reports' paper size, how many images one may cover, which are made in the request. */
  reports: ['REPORT_PAPER', 'REPORT_MAX_IMAGES', 'REPORT_INLINE_MAX_IMAGES'],
} as const satisfies Record<string, readonly (keyof Config)[]>;

export type SectionName = keyof typeof SECTION_KEYS;
/** The settings of one section, read-only: a module reads its configuration, never changes it. */
export type ConfigSection<N extends SectionName> = Readonly<Pick<Config, (typeof SECTION_KEYS)[N][number]>>;
/** Every section by name. */
export type ConfigSections = { readonly [N in SectionName]: ConfigSection<N> };

export type RuntimeConfig = ConfigSection<'runtime'>;
export type ObservabilityConfig = ConfigSection<'observability'>;
export type HttpConfig = ConfigSection<'http'>;
export type GraphqlConfig = ConfigSection<'graphql'>;
export type WebsocketConfig = ConfigSection<'websocket'>;
export type StorageConfig = ConfigSection<'storage'>;
export type DatabaseConfig = ConfigSection<'database'>;
export type RedisConfig = ConfigSection<'redis'>;
export type MailConfig = ConfigSection<'mail'>;
export type AuthConfig = ConfigSection<'auth'>;
export type UploadsConfig = ConfigSection<'uploads'>;
export type QuotasConfig = ConfigSection<'quotas'>;
export type ModelsConfig = ConfigSection<'models'>;
export type JobsConfig = ConfigSection<'jobs'>;
export type SeverityConfig = ConfigSection<'severity'>;
export type ReportsConfig = ConfigSection<'reports'>;
export type AbstainConfig = ConfigSection<'abstain'>;

/**
 * The sections of `config`, each a read-only view of it: values are read from `config` when used, so
 * a view taken before ensureSecrets() fills the generated secrets still sees them.
 */
export function sections(config: Config): ConfigSections {
  const out: Partial<Record<SectionName, object>> = {};
  for (const [name, keys] of Object.entries(SECTION_KEYS) as [SectionName, readonly (keyof Config)[]][]) {
    const view = {};
    for (const key of keys) Object.defineProperty(view, key, { enumerable: true, get: () => config[key] });
    out[name] = Object.freeze(view);
  }
  return out as ConfigSections;
}

// Compile-time check: a key of Config that no section lists makes this line an error naming the key.
type Unsectioned = Exclude<keyof Config, (typeof SECTION_KEYS)[SectionName][number]>;
const _everyKeyHasASection: [Unsectioned] extends [never] ? true : Unsectioned = true;
