import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { MemoryBudget, processMultipart } from '../../src/infra/http/multipart-request';

/**
 * processMultipart on a real HTTP server and real multipart bodies (fetch's FormData, and raw bytes where a
 * client would misbehave): files within the memory budget reach their resolver whole and in memory, larger ones
 * through a temp file, and every byte held is given back when the response closes, however the request ended.
 */
type Seen = { name: string; bytes: number; sha256: string; spooled: boolean } | { error: string; status?: number };

let server: http.Server;
let url: string;
let limits: { maxFileSize: number; maxFiles: number; memory: MemoryBudget };
/** Resolves with each request's budget in use once its response has closed. */
let closed: Array<(inUse: number) => void> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.once('close', () => setImmediate(() => closed.shift()?.(limits.memory.inUse)));
    processMultipart(req, res, limits).then(
      async (ops) => {
        const files = (ops as { variables: { files: Array<{ promise: Promise<any> }> } }).variables.files;
        const seen: Seen[] = [];
        for (const upload of files) {
          try {
            const file = await upload.promise;
            const body = await buffer(file.createReadStream());
            seen.push({
              name: file.filename,
              bytes: body.length,
              sha256: createHash('sha256').update(body).digest('hex'),
              spooled: 'capacitor' in file,
            });
          } catch (e) {
            seen.push({ error: (e as Error).message, status: (e as { status?: number }).status });
          }
        }
        res.end(JSON.stringify({ seen, inUseWhileAnswering: limits.memory.inUse }));
      },
      (e: Error & { status?: number }) => {
        res.statusCode = e.status ?? 500;
        res.end(JSON.stringify({ error: e.message }));
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  limits = { maxFileSize: 1 << 20, maxFiles: 4, memory: new MemoryBudget(64 * 1024) };
  closed = [];
});

const bytesOf = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 256));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const afterClose = () => new Promise<number>((r) => closed.push(r));

function form(files: Buffer[], map?: unknown): FormData {
  const f = new FormData();
  f.append('operations', JSON.stringify({ query: 'mutation', variables: { files: files.map(() => null) } }));
  f.append(
    'map',
    JSON.stringify(map ?? Object.fromEntries(files.map((_, i) => [String(i), [`variables.files.${i}`]]))),
  );
  files.forEach((b, i) => f.append(String(i), new Blob([b]), `f${i}.bin`));
  return f;
}

async function send(body: FormData): Promise<{ status: number; json: any; inUseAfter: number }> {
  const gone = afterClose();
  const res = await fetch(url, { method: 'POST', body });
  const json = await res.json();
  return { status: res.status, json, inUseAfter: await gone };
}

it('files within the budget reach the resolver whole from memory, and the memory is given back after the answer', async () => {
  const files = [bytesOf(10_000, 1), bytesOf(20_000, 2)];
  const r = await send(form(files));
  expect(r.json.seen).toEqual([
    { name: 'f0.bin', bytes: 10_000, sha256: sha(files[0]), spooled: false },
    { name: 'f1.bin', bytes: 20_000, sha256: sha(files[1]), spooled: false },
  ]);
  expect(r.json.inUseWhileAnswering).toBe(30_000);
  expect(r.inUseAfter).toBe(0);
});

it('a file past the budget goes through a temp file, byte for byte; one before it stays in memory', async () => {
  const files = [bytesOf(40_000, 3), bytesOf(300_000, 4)];
  const r = await send(form(files));
  expect(r.json.seen).toEqual([
    { name: 'f0.bin', bytes: 40_000, sha256: sha(files[0]), spooled: false },
    { name: 'f1.bin', bytes: 300_000, sha256: sha(files[1]), spooled: true },
  ]);
  expect(r.json.inUseWhileAnswering).toBe(40_000); // the spilled part let go of what it had held
  expect(r.inUseAfter).toBe(0);
});

it('with no budget every file goes through a temp file (UPLOAD_MEMORY_BYTES=0)', async () => {
  limits.memory = new MemoryBudget(0);
  const files = [bytesOf(5, 5)];
  const r = await send(form(files));
  expect(r.json.seen).toEqual([{ name: 'f0.bin', bytes: 5, sha256: sha(files[0]), spooled: true }]);
});

it('a file past maxFileSize is refused with 413 when read, in memory or spooled, and holds nothing after', async () => {
  limits.maxFileSize = 1000;
  expect((await send(form([bytesOf(5000)]))).json.seen).toEqual([
    { error: 'File truncated as it exceeds the 1000 byte size limit.', status: 413 },
  ]);
  limits.memory = new MemoryBudget(100);
  const r = await send(form([bytesOf(5000)]));
  expect(r.json.seen).toEqual([{ error: 'File truncated as it exceeds the 1000 byte size limit.', status: 413 }]);
  expect(r.inUseAfter).toBe(0);
});

it('refuses what the spec does not allow with its status: bad JSON, misordered fields, too many files, hostile paths', async () => {
  const raw = (parts: Array<[string, string | Blob]>) => {
    const f = new FormData();
    for (const [k, v] of parts) f.append(k, v);
    return f;
  };
  const ops = JSON.stringify({ variables: { files: [null] } });
  expect((await send(raw([['operations', '{not json']]))).status).toBe(400);
  expect((await send(raw([['map', '{}']]))).json.error).toMatch(/Misordered multipart fields; ‘map’ should follow/);
  expect(
    (
      await send(
        raw([
          ['operations', ops],
          ['0', new Blob(['x'])],
        ]),
      )
    ).json.error,
  ).toMatch(/files should follow ‘map’/);
  expect(
    (
      await send(
        raw([
          ['operations', ops],
          ['map', '[1]'],
        ]),
      )
    ).json.error,
  ).toMatch(/Invalid type for the ‘map’/);
  const five = JSON.stringify(Object.fromEntries([0, 1, 2, 3, 4].map((i) => [String(i), [`variables.files.${i}`]])));
  expect(
    await send(
      raw([
        ['operations', ops],
        ['map', five],
      ]),
    ),
  ).toMatchObject({ status: 413 });
  const proto = await send(
    raw([
      ['operations', ops],
      ['map', JSON.stringify({ 0: ['__proto__.polluted'] })],
    ]),
  );
  expect(proto).toMatchObject({ status: 400, json: { error: expect.stringMatching(/Invalid object path/) } });
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

it('a file the map names but the body lacks: 400 for that file, the others are read', async () => {
  const files = [bytesOf(100)];
  const map = { 0: ['variables.files.0'], 1: ['variables.files.1'] };
  const body = form(files, map);
  const ops = JSON.stringify({ query: 'mutation', variables: { files: [null, null] } });
  body.set('operations', ops);
  const r = await send(body);
  expect(r.json.seen).toEqual([
    { name: 'f0.bin', bytes: 100, sha256: sha(files[0]), spooled: false },
    { error: 'File missing in the request.', status: 400 },
  ]);
});

it('a client that disconnects in the middle of a file leaves nothing held', async () => {
  const boundary = 'x-boundary';
  const head = [
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ variables: { files: [null] } })}\r\n`,
    `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n${JSON.stringify({ 0: ['variables.files.0'] })}\r\n`,
    `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="cut.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  ].join('');
  const gone = afterClose();
  const { port } = server.address() as AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write(
    `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 1000000\r\n\r\n${head}`,
  );
  socket.write(bytesOf(30_000));
  await new Promise((r) => setTimeout(r, 100));
  expect(limits.memory.inUse).toBe(30_000); // held while the part arrives
  socket.destroy();
  expect(await gone).toBe(0);
});
