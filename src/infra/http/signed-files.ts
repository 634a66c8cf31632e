import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type NextFunction, type Request, type Response } from 'express';
import cors from 'cors';
import { AppError, forbidden, type ErrorCode } from '../errors';
import { checkSignature, type SignedTarget } from '../storage/signed-urls';

/**
 * A verified request's file: one in the file store to stream, bytes rendered for this request, or a
 * stream produced as it is sent (`open`, called for GET only: an export of unknown length).
 */
export type SignedFile = ({ path: string } | { data: Buffer } | { open: () => Readable }) & {
  /** Content type. */
  type: string;
  /** Entity tag for conditional requests (`If-None-Match` answers 304). */
  etag?: string;
  /** Sent as a download (`Content-Disposition: attachment`) under this name; shown inline when absent. */
  fileName?: string;
};

/** `Content-Disposition` of a download: an ASCII fallback name plus the exact name (RFC 6266 / 5987). */
export function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/** The files of one kind of signed URL (`signedUrl({ kind, id, variant })`), served at `/files/<kind>s/:id/:variant`. */
export interface SignedFileRoute {
  kind: string;
  /** The file a verified URL names. Refuse with an AppError (notFound, forbidden); anything else is a 500. */
  serve(target: SignedTarget, request: SignedFileRequest): Promise<SignedFile>;
}

/** Who asked for a signed file (for routes that audit their downloads). */
export interface SignedFileRequest {
  ip: string;
  userAgent: string;
}

/** The HTTP status of each refusal a route may raise. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
};

/** A refusal in the GraphQL error shape the API answers everywhere, never cached. */
function refuse(res: Response, status: number, err: AppError): void {
  res
    .status(status)
    .set('cache-control', 'no-store')
    .json({ errors: [{ message: err.message, extensions: { code: err.code } }] });
}

/**
 * A stream made as it is sent: no length (chunked), never cached (it is re-read and re-authorised per
 * request). A failure before the first byte goes to the route's error handling; after it the response
 * is cut off without its last chunk, so the client sees an incomplete download, never a short "complete" one.
 */
async function sendStream(req: Request, res: Response, file: SignedFile & { open: () => Readable }): Promise<void> {
  res.set({
    'content-type': file.type,
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
    'content-disposition': file.fileName ? attachment(file.fileName) : 'inline',
  });
  if (req.method === 'HEAD') return void res.status(200).end();
  try {
    await pipeline(file.open(), res);
  } catch (err) {
    if (!res.headersSent) throw err;
    // The client left (premature close), or the source failed mid-way: pipeline has destroyed both.
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE')
      (req as Request & { log?: { error(o: object, m: string): void } }).log?.error({ err }, 'signed stream failed');
  }
}

async function send(req: Request, res: Response, next: NextFunction, file: SignedFile): Promise<void> {
  if ('open' in file) return sendStream(req, res, file);
  const size = 'data' in file ? file.data.length : (await stat(file.path)).size;
  const secondsLeft = Math.max(0, Number(req.query.exp) - Math.floor(Date.now() / 1000));
  res.set({
    'content-type': file.type,
    'content-length': String(size),
    // What a URL names never changes (content-addressed files, results that are never rewritten);
    // the URL itself expires, so caches may keep it that long.
    'cache-control': `private, max-age=${secondsLeft}, immutable`,
    'x-content-type-options': 'nosniff',
    'content-disposition': file.fileName ? attachment(file.fileName) : 'inline',
    ...(file.etag ? { etag: file.etag } : {}),
  });
  if (file.etag && req.headers['if-none-match'] === file.etag) return void res.status(304).end();
  if ('data' in file) return void res.status(200).end(file.data);
  createReadStream(file.path).on('error', next).pipe(res);
}

/** Options of the signed-file router. */
export interface SignedFilesOptions {
  /** Origins whose pages may read the files (CORS_ORIGINS, as for /graphql), e.g. to draw them on a canvas. */
  corsOrigins?: readonly string[];
}

/**
 * The one router of signed file URLs (images, Grad-CAM maps, segmentation masks). The signature
 * is the authorisation, so no session is needed: it is checked in constant time before any
 * lookup, and a wrong, altered or expired URL gets 403. Every refusal is JSON in the GraphQL
 * error shape (`{ errors: [{ message, extensions: { code } }] }`); an unexpected failure goes on
 * to the app's final handler (500, request id only).
 *
 * CORS: a request from an allowed origin gets `Access-Control-Allow-Origin` with that origin (no
 * credentials: the URL is the authorisation), so `<img crossorigin>` and `fetch()` may read the pixels;
 * every answer carries `Vary: Origin`; other origins get no CORS header and the browser keeps the bytes
 * from the page.
 */
export function signedFilesRouter(
  secret: string,
  routes: readonly SignedFileRoute[],
  opts: SignedFilesOptions = {},
): Router {
  const router = Router();
  // A list, not a function: cors then adds `Vary: Origin` to every answer, allowed origin or not.
  router.use('/files', cors({ origin: [...(opts.corsOrigins ?? [])], methods: ['GET', 'HEAD'], maxAge: 600 }));
  for (const route of routes) {
    router.get(`/files/${route.kind}s/:id/:variant`, async (req, res, next) => {
      try {
        const target = { kind: route.kind, id: String(req.params.id), variant: String(req.params.variant) };
        const check = checkSignature(secret, target, req.query.exp, req.query.sig);
        if (check !== 'OK') throw forbidden(check === 'EXPIRED' ? 'This link has expired' : 'Invalid signature');
        const request = { ip: req.ip ?? '', userAgent: String(req.headers['user-agent'] ?? '') };
        await send(req, res, next, await route.serve(target, request));
      } catch (err) {
        const status = err instanceof AppError ? STATUS[err.code] : undefined;
        if (status && !res.headersSent) return refuse(res, status, err as AppError);
        next(err);
      }
    });
  }
  return router;
}
