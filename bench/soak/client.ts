import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { Answer } from './recorder';

/** The soak's client side: GraphQL over HTTP (JSON and multipart) and inferenceProgress over graphql-ws. */

const TIMEOUT_MS = 120_000;

async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text();
  try {
    return { status: res.status, ...(JSON.parse(text) as object) };
  } catch {
    return { status: res.status, errors: [{ message: text.slice(0, 200) }] };
  }
}

export async function gql(
  url: string,
  query: string,
  variables: object = {},
  token?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return answerOf(res);
}

export const UPLOAD =
  'mutation($p: ID!, $f: [Upload!]!) { uploadImages(patientId: $p, files: $f) { id sha256 byteSize } }';

/** uploadImages with `files` as one multipart request (graphql-upload's spec). */
export async function uploadImages(url: string, token: string, patientId: string, files: Buffer[]): Promise<Answer> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD, variables: { p: patientId, f: files.map(() => null) } }));
  form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.f.${i}`]]))));
  files.forEach((f, i) => form.append(String(i), new Blob([f]), `soak-${i}.jpg`));
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    body: form,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return answerOf(res);
}

/**
 * A graphql-ws client for `url` (http) signed in with `token`, its socket kept open, retrying its
 * connection a few times (graphql-ws subscribes again to what was open); `onClosed` hears each
 * socket's close code and reason.
 */
export function wsClient(
  url: string,
  token: string,
  onClosed: (code: number, reason: string) => void = () => undefined,
): Client {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: false,
    onNonLazyError: () => undefined, // a subscription then ends with its own error
    retryAttempts: 5,
    shouldRetry: () => true,
    connectionParams: { authorization: `Bearer ${token}` },
    on: {
      closed: (e) => onClosed((e as { code?: number }).code ?? 0, String((e as { reason?: string }).reason ?? '')),
    },
  });
}

const PROGRESS = 'subscription($id: ID!) { inferenceProgress(jobId: $id) { seq stage status } }';
export const FINAL_STAGES = new Set(['DONE', 'FAILED', 'CANCELLED']);

/** What a subscription to one job saw: its stages in order, the final one (or null), the error it ended with. */
export interface Watched {
  stages: string[];
  final: string | null;
  error: string | null;
  /** Subscriptions made again after one ended in an error (as a client does while a service is down). */
  resubscribed: number;
}

const describe = (e: unknown): string =>
  e instanceof Error
    ? e.message
    : Array.isArray(e)
      ? `errors: ${JSON.stringify(e).slice(0, 200)}`
      : `closed: ${(e as { code?: number }).code ?? String(e)}`;

/** One subscription to a job's progress until its final event, its end, or an error (resolved with it). */
function subscribeOnce(client: Client, jobId: string, seen: Watched, deadline: number): Promise<string | null> {
  return new Promise((resolve) => {
    let dispose = () => undefined as void;
    const finish = (error: string | null) => {
      clearTimeout(timer);
      resolve(error);
    };
    // Only a subscription that is still open is disposed of here. After the final event the server
    // completes the stream itself: disposing then too made graphql-ws 6 release the operation twice
    // when its Complete came in the same read (its count of open operations fell below zero, and
    // it closed the socket under the other subscriptions: 1000 "Normal Closure").
    const timer = setTimeout(() => (finish('timed out'), dispose()), Math.max(0, deadline - Date.now()));
    dispose = client.subscribe(
      { query: PROGRESS, variables: { id: jobId } },
      {
        next: (r) => {
          const event = (r.data as { inferenceProgress?: { stage: string } } | undefined)?.inferenceProgress;
          if (!event) return;
          seen.stages.push(event.stage);
          if (FINAL_STAGES.has(event.stage)) {
            seen.final = event.stage;
            finish(null);
          }
        },
        error: (e) => finish(describe(e)),
        // The server completed the stream: without a final event before it, that is what is reported.
        complete: () => finish(seen.final ? null : 'completed without a final event'),
      },
    );
  });
}

/**
 * Follows inferenceProgress of `jobId` (earlier events are replayed) until its final event. A
 * subscription refused or cut by an error (the database or the api down) is made again a second
 * later, as a client would; the events seen are those of the last one. Gives up after `ms`.
 */
export async function watchJob(client: Client, jobId: string, ms = 180_000): Promise<Watched> {
  const seen: Watched = { stages: [], final: null, error: null, resubscribed: 0 };
  const deadline = Date.now() + ms;
  for (;;) {
    seen.stages = [];
    const error = await subscribeOnce(client, jobId, seen, deadline);
    if (seen.final) return seen;
    seen.error = error === 'timed out' ? `no final event in ${ms} ms (last: ${seen.error})` : error;
    if (error === 'timed out' || error === 'completed without a final event' || Date.now() > deadline - 1000)
      return seen;
    seen.resubscribed++;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
