import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { projectRoot } from '../src/infra/paths';

/** One row of a bench table: a name and its measured values (numbers are printed to 3 significant digits). */
export type Row = Record<string, string | number | null>;

export interface BenchResult {
  bench: string;
  /** What the numbers mean and what they are compared against. */
  description: string;
  rows: Row[];
  /** Headline figures, e.g. ratios against the raw runtime measured in the same run. */
  summary?: Record<string, number | string>;
  /** Further tables, printed after the main one. */
  tables?: Array<{ title: string; description: string; rows: Row[] }>;
}

/** Quantile of a sample (linear interpolation); the sample need not be sorted. */
export function quantile(values: number[], q: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function fmt(v: string | number | null): string {
  if (v === null) return '-';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) || Math.abs(v) >= 100) return String(Math.round(v));
  return v.toPrecision(3);
}

/** Prints rows as a Markdown table, one column per key found in any row. */
function printTable(rows: Row[]): void {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => cols.map((c) => fmt(r[c] ?? null)));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`${line(cols)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}

/** Prints the tables and writes bench/results/<bench>.json with the machine it ran on. */
export function report(result: BenchResult): void {
  process.stdout.write(`\n## ${result.bench}: ${result.description}\n\n`);
  printTable(result.rows);
  for (const t of result.tables ?? []) {
    process.stdout.write(`\n### ${t.title}: ${t.description}\n\n`);
    printTable(t.rows);
  }
  if (result.summary) for (const [k, v] of Object.entries(result.summary)) process.stdout.write(`\n${k}: ${fmt(v)}`);
  process.stdout.write('\n');
  const dir = path.join(projectRoot, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  fs.writeFileSync(
    path.join(dir, `${result.bench}.json`),
    JSON.stringify({ ...result, machine, at: new Date().toISOString() }, null, 2),
  );
}

/** A fresh PostgreSQL database for one bench run (DATABASE_URL's server, else the local one); drop() removes it. */
export async function createBenchDatabase(bench: string): Promise<{ url: string; drop(): Promise<void> }> {
  const { Client } = await import('pg');
  const server = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
  const name = `dg_bench_${bench}_${process.pid}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: server });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`).finally(() => c.end());
    },
  };
}
