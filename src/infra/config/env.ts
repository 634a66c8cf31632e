import { z } from 'zod';
import path from 'node:path';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
const url = z.string().url();
/** A decimal number in [min, max]; unlike z.coerce.number(), '' or '0x10' is refused, not read as 0 or 16. */
const decimal = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i, 'must be a decimal number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

/**
 * The public placeholder earlier versions used when TOTP_ENCRYPTION_KEY / URL_SIGNING_SECRET were unset.
 * Never used to sign or encrypt any more: set explicitly outside production it counts as unset (a
 * secret generated under DATA_DIR/keys is used, see secrets.ts); production refuses it. SecretBox keeps
 * it for decryption only, so TOTP secrets stored under it still work (and are re-encrypted at start).
 */
export const DEFAULT_SECRET = 'dev-insecure-change-me';

/**
 * Every environment variable the server reads, with the default used by `npm start`.
 * .env.example and the README's table are checked against this list by a test.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65535).default(4000),
  // Loopback: `npm start` is for this machine; containers and servers set HOST=0.0.0.0 explicitly.
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Lines kept in memory per process for serverLogs (0: none kept; serverLogStream still tails).
  LOG_RING_SIZE: int(0, 100_000).default(2000),
  // Heartbeat of each process (systemStatus.processes) and how often usage counters reach Redis.
  MONITOR_INTERVAL_MS: int(500, 60_000).default(10000),
  DATA_DIR: z.string().min(1).default('./data'),
  // Store files no row references (a crash between storing files and committing rows): swept this often, once this old.
  FILE_GC_INTERVAL_MINUTES: int(0, 10080).default(360),
  FILE_GC_GRACE_MINUTES: int(5, 43200).default(1440),
  DATABASE_URL: z
    .union([z.literal(''), url.refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// URL')])
    .default(''),
  DATABASE_POOL_MAX: int(1, 200).default(10),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('public'),
  REDIS_URL: z.union([z.literal(''), url.refine((u) => /^rediss?:\/\//.test(u), 'must be a redis:// URL')]).default(''),
  REDIS_PREFIX: z.string().default('dg:'),
  SMTP_URL: z.union([z.literal(''), url]).default(''),
  MAIL_FROM: z.string().min(3).default('Dermagraph <no-reply@dermagraph.local>'),
  // Unset (or empty): http://localhost:<PORT> (HOST when it is not loopback or a wildcard), see defaultPublicUrl.
  PUBLIC_URL: z.union([z.literal(''), url]).default(''),
  CORS_ORIGINS: csv.default(['http://localhost:3000', 'http://localhost:4000']),
  TRUST_PROXY: z.string().default('loopback'),
  // How long an idle keep-alive connection stays open: longer than a proxy's own (nginx's upstream keepalive_timeout
  // is 60 s), so the proxy, never the api, ends an idle connection, and never as it sends a request on it.
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1000, 600_000).default(72_000),
  // `dermagraph worker`'s /healthz, /readyz and /metrics (on HOST); 0 = any free port.
  WORKER_HTTP_PORT: int(0, 65535).default(9464),
  ADMIN_EMAIL: z.union([z.literal(''), z.string().email()]).default(''),
  ADMIN_PASSWORD: z.string().default(''),
  JWT_PRIVATE_KEY: z.string().default(''),
  JWT_ISSUER: z.string().min(1).default('dermagraph'),
  JWT_AUDIENCE: z.string().min(1).default('dermagraph-api'),
  JWT_ACCESS_TTL_SECONDS: int(60, 86400).default(900),
  JWT_REFRESH_TTL_DAYS: int(1, 365).default(30),
  // Unset: generated once under DATA_DIR/keys (ensureSecrets); production requires them set.
  TOTP_ENCRYPTION_KEY: z.string().default(''),
  URL_SIGNING_SECRET: z.string().default(''),
  SIGNED_URL_TTL_SECONDS: int(10, 86400).default(300),
  ALLOW_UNVERIFIED_LOGIN: bool.default(false),
  EMAIL_VERIFICATION_TTL_HOURS: int(1, 720).default(24),
  PASSWORD_RESET_TTL_MINUTES: int(5, 1440).default(30),
  INVITATION_TTL_HOURS: int(1, 720).default(72),
  ACCOUNT_DELETION_PATIENTS: z.enum(['transfer', 'archive']).default('transfer'),
  MODEL_DIR: z.string().min(1).default('./plugins'),
  MODEL_WATCH: bool.default(false),
  DEFAULT_CLASSIFIER: z.string().default(''),
  // auto: an api process in queue mode keeps the catalogue but creates no ONNX sessions (workers run the models).
  API_LOAD_MODELS: z.enum(['auto', 'always', 'never']).default('auto'),
  UPLOAD_MAX_FILE_BYTES: int(1024, 2 ** 31).default(25 * 1024 * 1024),
  UPLOAD_MAX_FILES: int(1, 1000).default(20),
  // Uploaded files' bytes held in memory by all requests together; past it, parts go to temp files. 0: always temp files.
  UPLOAD_MEMORY_BYTES: int(0, 2 ** 31).default(32 * 1024 * 1024),
  UPLOAD_MAX_PIXELS: int(1, 2 ** 31).default(50_000_000),
  MODEL_PACKAGE_MAX_BYTES: int(1024, 2 ** 31).default(200 * 1024 * 1024),
  QUOTA_FREE_UPLOADS_PER_MONTH: int(0, 10_000_000).default(500),
  QUOTA_FREE_PREDICTIONS_PER_MONTH: int(0, 10_000_000).default(1000),
  QUOTA_PRO_UPLOADS_PER_MONTH: int(0, 10_000_000).default(20000),
  QUOTA_PRO_PREDICTIONS_PER_MONTH: int(0, 10_000_000).default(50000),
  QUOTA_FREE_SEGMENTATIONS_PER_MONTH: int(0, 10_000_000).default(300),
  QUOTA_PRO_SEGMENTATIONS_PER_MONTH: int(0, 10_000_000).default(20000),
  SEVERITY_SMALL_AREA_PERCENT: z.coerce.number().min(0).max(100).default(5),
  SEVERITY_LARGE_AREA_PERCENT: z.coerce.number().min(0).max(100).default(20),
  SEVERITY_HIGH_CIRCULARITY: z.coerce.number().min(0).max(1).default(0.75),
  SEVERITY_LOW_CIRCULARITY: z.coerce.number().min(0).max(1).default(0.45),
  // Abstention (docs/inference.md, "Image quality and abstention"): |P(malignant) - threshold| below this abstains; 0: never.
  ABSTAIN_MARGIN: decimal(0, 1).default(0.1),
  // Image-quality limits, measured on the 320 ISIC UDA-1 images (scripts/measure-quality.ts); 0 (max fractions: 1) turns one off.
  QUALITY_MIN_SHARPNESS: decimal(0, 1_000_000).default(4),
  QUALITY_MAX_SHARPNESS: decimal(0, 1_000_000).default(1000),
  QUALITY_MIN_BRIGHTNESS: decimal(0, 255).default(50),
  QUALITY_MAX_DARK_FRACTION: decimal(0, 1).default(0.6),
  QUALITY_MAX_BRIGHT_FRACTION: decimal(0, 1).default(0.65),
  QUALITY_MIN_SKIN_FRACTION: decimal(0, 1).default(0.1),
  REPORT_PAPER: z.enum(['A4', 'LETTER']).default('A4'),
  REPORT_MAX_IMAGES: int(1, 100_000).default(5000),
  REPORT_INLINE_MAX_IMAGES: int(0, 1000).default(5),
  JOB_CONCURRENCY: int(1, 64).default(2),
  JOB_IMAGE_CONCURRENCY: int(1, 64).default(8),
  JOB_MODE: z.enum(['auto', 'inline', 'queue']).default('auto'),
  JOB_ATTEMPTS: int(1, 20).default(3),
  JOB_LOCK_MS: int(1000, 600_000).default(30000),
  JOB_WAIT_TIMEOUT_MS: int(0, 600_000).default(30000),
  SEGMENT_MAX_PIXELS_IN_FLIGHT: int(1_000_000, 2 ** 31).default(50_000_000),
  IMAGE_THREADS: int(1, 64).default(1),
  GRAPHQL_MAX_DEPTH: int(2, 50).default(12),
  GRAPHQL_MAX_ALIASES: int(1, 1000).default(15),
  // The largest page of every connection fits (test/foundation/query-cost.test.ts); docs/errors.md#query-cost.
  GRAPHQL_MAX_COST: int(100, 1_000_000).default(30000),
  GRAPHQL_MAX_TOKENS: int(100, 1_000_000).default(2000),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: int(1, 10_000).default(100),
  WS_MAX_SOCKETS_PER_USER: int(1, 10_000).default(20),
  WS_MAX_SOCKETS_PER_IP: int(1, 100_000).default(100),
  GRAPHIQL: z.union([z.literal(''), bool]).default(''),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(15000),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  /** Absolute data directory. */
  dataDir: string;
  embeddedDatabase: boolean;
  isProduction: boolean;
  /** GraphiQL and field suggestions: on in development, off in production unless GRAPHIQL=1. */
  graphiqlEnabled: boolean;
  /** PUBLIC_URL was not set: it is derived from HOST and PORT (with PORT=0, from the port the server got). */
  publicUrlFromPort: boolean;
}

/**
 * The URL a server listening on `host`:`port` is reached at from this machine, PUBLIC_URL's default:
 * `localhost` for loopback and wildcard addresses, else the host itself.
 */
export function defaultPublicUrl(host: string, port: number): string {
  const local = ['127.0.0.1', '::1', '0.0.0.0', '::', 'localhost'].includes(host);
  const name = local ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The severity cut points must be ordered (small <= large area, low <= high circularity), else a
 * lesion could be both LOW and HIGH and the table in docs/inference.md would not hold.
 */
function severityOrderIssues(e: z.infer<typeof envSchema>): string[] {
  const issues: string[] = [];
  if (e.SEVERITY_SMALL_AREA_PERCENT > e.SEVERITY_LARGE_AREA_PERCENT)
    issues.push(
      `SEVERITY_SMALL_AREA_PERCENT: must not exceed SEVERITY_LARGE_AREA_PERCENT (got ${e.SEVERITY_SMALL_AREA_PERCENT} > ${e.SEVERITY_LARGE_AREA_PERCENT})`,
    );
  if (e.SEVERITY_LOW_CIRCULARITY > e.SEVERITY_HIGH_CIRCULARITY)
    issues.push(
      `SEVERITY_LOW_CIRCULARITY: must not exceed SEVERITY_HIGH_CIRCULARITY (got ${e.SEVERITY_LOW_CIRCULARITY} > ${e.SEVERITY_HIGH_CIRCULARITY})`,
    );
  return issues;
}

/** QUALITY_MIN_SHARPNESS above a set QUALITY_MAX_SHARPNESS would flag every image. */
function qualityOrderIssues(e: z.infer<typeof envSchema>): string[] {
  return e.QUALITY_MAX_SHARPNESS > 0 && e.QUALITY_MIN_SHARPNESS > e.QUALITY_MAX_SHARPNESS
    ? [
        `QUALITY_MIN_SHARPNESS: must not exceed QUALITY_MAX_SHARPNESS (got ${e.QUALITY_MIN_SHARPNESS} > ${e.QUALITY_MAX_SHARPNESS})`,
      ]
    : [];
}

/** Parses the environment; a wrong value throws a ConfigError naming each variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.fromEntries(
    Object.keys(envSchema.shape)
      .filter((k) => env[k] !== undefined)
      .map((k) => [k, env[k]]),
  );
  const parsed = envSchema.safeParse(known);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (i) => `${i.path.join('.')}: ${i.message} (got ${JSON.stringify(known[String(i.path[0])])})`,
      ),
    );
  }
  const e = parsed.data;
  const unordered = [...severityOrderIssues(e), ...qualityOrderIssues(e)];
  if (unordered.length) throw new ConfigError(unordered);
  const isProduction = e.NODE_ENV === 'production';
  if (isProduction) {
    const weak = (['TOTP_ENCRYPTION_KEY', 'URL_SIGNING_SECRET'] as const).filter(
      (k) => e[k] === DEFAULT_SECRET || e[k].length < 32,
    );
    if (weak.length)
      throw new ConfigError(
        weak.map(
          (k) =>
            `${k}: production needs it set explicitly, at least 32 characters and not the old public default (processes that are scaled out must share it)`,
        ),
      );
  } else {
    for (const k of ['TOTP_ENCRYPTION_KEY', 'URL_SIGNING_SECRET'] as const) if (e[k] === DEFAULT_SECRET) e[k] = '';
  }
  return {
    ...e,
    dataDir: path.resolve(e.DATA_DIR),
    embeddedDatabase: e.DATABASE_URL === '',
    isProduction,
    graphiqlEnabled: e.GRAPHIQL === '' ? !isProduction : e.GRAPHIQL,
    PUBLIC_URL: e.PUBLIC_URL || defaultPublicUrl(e.HOST, e.PORT),
    publicUrlFromPort: e.PUBLIC_URL === '',
  };
}
