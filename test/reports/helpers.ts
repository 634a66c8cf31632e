import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  openSync,
  readSync,
  closeSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestServer } from '../support/server';

export const REPORT_FIELDS = 'id kind status progress imageCount fileName bytes url error jobId createdAt finishedAt';

export const R = {
  generate: `mutation($input: ReportInput!, $wait: Boolean) { generateReport(input: $input, wait: $wait) { ${REPORT_FIELDS} } }`,
  report: `query($id: ID!) { report(id: $id) { ${REPORT_FIELDS} } }`,
  remove: `mutation($id: ID!) { deleteReport(id: $id) }`,
};

/** Downloads a signed URL from the test server (PUBLIC_URL differs from its random port). */
export async function download(
  server: TestServer,
  url: string,
): Promise<{ status: number; type: string | null; disposition: string | null; body: Buffer }> {
  const u = new URL(url);
  u.host = new URL(server.url).host;
  const res = await fetch(u);
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    disposition: res.headers.get('content-disposition'),
    body: Buffer.from(await res.arrayBuffer()),
  };
}

/** Runs a poppler / unzip tool on bytes written to a temporary file; returns its stdout. */
export function withFile<T>(bytes: Buffer, ext: string, fn: (file: string, dir: string) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dg-report-'));
  const file = path.join(dir, `file.${ext}`);
  writeFileSync(file, bytes);
  try {
    return fn(file, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const pdfText = (pdf: Buffer): string =>
  withFile(pdf, 'pdf', (f) => execFileSync('pdftotext', ['-layout', f, '-'], { encoding: 'utf8' }));

/** Share of non-white pixels of page 1 rendered at 30 dpi (a blank page is 0). */
export const inkOfFirstPage = (pdf: Buffer): number =>
  withFile(pdf, 'pdf', (f, dir) => {
    execFileSync('pdftoppm', ['-f', '1', '-l', '1', '-r', '30', '-gray', f, path.join(dir, 'p')]);
    const pgm = readFileSync(
      path.join(
        dir,
        readdirSync(dir).find((n) => n.startsWith('p'))!,
      ),
    );
    // Binary PGM: header "P5\n<w> <h>\n255\n" then one byte per pixel.
    const header = pgm.toString('latin1', 0, 40).match(/^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/)!;
    const pixels = pgm.subarray(header[0].length);
    let ink = 0;
    for (const p of pixels) if (p < 200) ink++;
    return ink / pixels.length;
  });

/** `unzip -t` passes, and the entries with their bytes. */
export function unzipAll(zip: Buffer): { test: string; entries: Map<string, Buffer> } {
  return withFile(zip, 'zip', (f, dir) => {
    const test = execFileSync('unzip', ['-t', f], { encoding: 'utf8' });
    const out = path.join(dir, 'x');
    execFileSync('unzip', ['-q', f, '-d', out]);
    const entries = new Map<string, Buffer>();
    const walk = (d: string, prefix: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name), `${prefix}${e.name}/`);
        else entries.set(`${prefix}${e.name}`, readFileSync(path.join(d, e.name)));
      }
    };
    walk(out, '');
    return { test, entries };
  });
}

/** Stored files (not derived copies, not staging) that are ZIPs or PDFs: a report's file left behind shows here. */
export function storedReportFiles(dataDir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'derived' && e.name !== 'tmp') walk(p);
      } else if (statSync(p).size >= 4) {
        const fd = openSync(p, 'r');
        const head = Buffer.alloc(4);
        readSync(fd, head, 0, 4, 0);
        closeSync(fd);
        if (head.toString('latin1') === 'PK\x03\x04' || head.toString('latin1') === '%PDF') found.push(p);
      }
    }
  };
  walk(dataDir);
  return found;
}
