// Pure helpers of the IDE's fetcher: which transport an operation takes, what it sends, how failures read. No DOM,
// nothing with side effects, so Jest tests them as they are (test/web/graphiql-operation.test.ts).
import type { DocumentNode, OperationDefinitionNode } from 'graphql';

/** The headers pane as GraphiQL hands it over: a parsed JSON object. */
export type PaneHeaders = Record<string, unknown> | undefined;

/**
 * Case-insensitive header lookup. Empty values count as absent, so the pane's `"Authorization": ""` template sends
 * nothing (the server would refuse an empty credential rather than treat the caller as signed out).
 */
export function headerValue(headers: PaneHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, raw] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() !== wanted) continue;
    const value = raw == null ? '' : String(raw);
    return value.trim() === '' ? undefined : value;
  }
  return undefined;
}

/** The pane's headers without the empty ones, names lower-cased (HTTP header names are case-insensitive). */
export function nonEmptyHeaders(headers: PaneHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(headers ?? {})) {
    const value = headerValue(headers, key);
    if (value !== undefined) out[key.toLowerCase()] = value;
  }
  return out;
}

/**
 * True when the operation GraphiQL runs is a subscription: the one named `operationName`, or the document's only
 * operation when no name is given.
 */
export function isSubscription(document: DocumentNode | undefined, operationName?: string | null): boolean {
  const operations = (document?.definitions ?? []).filter(
    (d): d is OperationDefinitionNode => d.kind === 'OperationDefinition',
  );
  const chosen = operationName
    ? operations.find((d) => d.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  return chosen?.operation === 'subscription';
}

/** WebSocket close codes 4000-4999 are the server's verdict (4401 expired token, 4403 forbidden): retrying cannot help. */
export function isServerVerdict(reason: unknown): boolean {
  const code = (reason as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 4000 && code <= 4999;
}

/** The graphql-ws URL for an endpoint given as a path or a ws(s):// URL, seen from the page at `pageUrl`. */
export function webSocketUrl(endpoint: string, pageUrl: string): string {
  const url = new URL(endpoint, pageUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.toString();
}

/**
 * What the response pane shows for a socket failure. graphql-ws reports one as an Error, a CloseEvent or a bare Event;
 * GraphiQL prints what it gets, an Error's stack included, so it gets a plain { message }.
 */
export function socketFailureMessage(reason: unknown, url: string): { message: string } {
  if (reason instanceof Error) return { message: reason.message };
  const close = reason as { code?: unknown; reason?: unknown } | null;
  if (typeof close?.code === 'number') {
    const why = typeof close.reason === 'string' && close.reason ? `: ${close.reason}` : '';
    return { message: `WebSocket closed (${close.code}${why})` };
  }
  return { message: `WebSocket connection to ${url} failed` };
}
