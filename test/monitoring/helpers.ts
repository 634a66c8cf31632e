import { createLogger, type LogDestination } from '../../src/infra/observability/logger';
import type { TestServer } from '../support/server';

/** A logger at info whose lines go to its ring only (the test output stays quiet). */
export const quietInfoLogger = () => {
  const sink: LogDestination = { write: () => true };
  return createLogger({ LOG_LEVEL: 'info', LOG_RING_SIZE: 2000 }, {}, { destination: sink });
};

/** POSTs an operation with an x-request-id of our choosing. */
export async function gqlWithId<T = any>(
  server: TestServer,
  requestId: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<{ status: number; data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> }> {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-request-id': requestId,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { ...((await res.json()) as object), status: res.status };
}

export const Q = {
  logs: `query($level: LogLevel, $since: DateTime, $limit: Int) {
    serverLogs(level: $level, since: $since, limit: $limit) {
      lines { time level message requestId json source { id role host pid } }
      sources { answered source { id role pid } }
    }
  }`,
  status: `{ systemStatus { version queueDepth workersSeen
    process { id role pid memory { rssBytes heapUsedBytes } eventLoopDelay { meanMs p99Ms maxMs windowSeconds } }
    processes { id role host pid seenAt memory { rssBytes } eventLoopDelay { p99Ms } models { name version device status active } } } }`,
  usage: `query($since: DateTime!, $until: DateTime) {
    modelUsage(since: $since, until: $until) { resolution since until versions { model version requests failures p50Ms p95Ms } }
  }`,
};
