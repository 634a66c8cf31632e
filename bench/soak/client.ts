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

export async function gql(url: string, query: string, variables: object = {}, token?: string): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
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
}

/**
 * Subscribes to inferenceProgress of `jobId` (earlier events are replayed) and resolves once the
 * final event came, the stream ended or failed, or `ms` passed.
 */
export function watchJob(client: Client, jobId: string, ms = 180_000): Promise<Watched> {
  const seen: Watched = { stages: [], final: null, error: null };
  return new Promise((resolve) => {
    let dispose = () => undefined as void;
    const finish = (error?: string) => {
      clearTimeout(timer);
      if (error && !seen.error) seen.error = error;
      resolve(seen);
    };
    // Only a subscription that is still open is disposed of here. After the final event the server
    // completes the stream itself: disposing then too made graphql-ws 6 release the operation twice
    // when its Complete came in the same read (its count of open operations fell below zero, and
    // it closed the socket under the other subscriptions: 1000 "Normal Closure").
    const timer = setTimeout(() => (finish(`no final event in ${ms} ms`), dispose()), ms);
    dispose = client.subscribe(
      { query: PROGRESS, variables: { id: jobId } },
      {
        next: (r) => {
          if (r.errors) seen.error = String(r.errors[0]?.extensions?.code ?? r.errors[0]?.message);
          const event = (r.data as { inferenceProgress?: { stage: string } } | undefined)?.inferenceProgress;
          if (!event) return;
          seen.stages.push(event.stage);
          if (FINAL_STAGES.has(event.stage)) {
            seen.final = event.stage;
            finish();
          }
        },
        error: (e) => finish(e instanceof Error ? e.message : `closed: ${(e as { code?: number }).code ?? e}`),
        // The server completed the stream: without a final event before it, that is what is reported.
        complete: () => finish(seen.final ? undefined : 'completed without a final event'),
      },
    );
  });
}
