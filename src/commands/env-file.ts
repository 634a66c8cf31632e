import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { ConfigError } from '../infra/config';

/**
 * Reads a dotenv file into `env` before the config is parsed (`.env.example` lists every variable):
 * `--env-file <path>`, else the file DOTENV_PATH names, else `.env` in the working directory (skipped
 * when there is none; a file named explicitly must exist). A variable already set in the environment,
 * even to an empty value, wins over the file. Returns the absolute path of the file read, or null.
 */
export function loadEnvFile(
  explicit?: string,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string | null {
  const source = explicit ? '--env-file' : env.DOTENV_PATH ? 'DOTENV_PATH' : null;
  const file = path.resolve(cwd, explicit || env.DOTENV_PATH || '.env');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!source && code === 'ENOENT') return null;
    throw new ConfigError([`${source ?? '.env'}: cannot read ${file} (${code ?? (err as Error).message})`]);
  }
  for (const [key, value] of Object.entries(dotenv.parse(text))) if (env[key] === undefined) env[key] = value;
  return file;
}
