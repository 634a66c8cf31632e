import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ApolloServerPlugin } from '@apollo/server';

/** Prometheus metrics of one process, on a registry of its own (tests run several servers). */
export interface Metrics {
  registry: Registry;
  graphqlRequests: Counter<'operation' | 'type' | 'outcome'>;
  graphqlDuration: Histogram<'operation' | 'type'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dermagraph_' });
  return {
    registry,
    graphqlRequests: new Counter({
      name: 'dermagraph_graphql_requests_total',
      help: 'GraphQL operations by operation name, type and outcome',
      labelNames: ['operation', 'type', 'outcome'],
      registers: [registry],
    }),
    graphqlDuration: new Histogram({
      name: 'dermagraph_graphql_request_duration_seconds',
      help: 'GraphQL operation latency',
      labelNames: ['operation', 'type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

/** Distinct operation names kept as label values; clients choose names, so they are capped. */
const MAX_OPERATION_LABELS = 200;

/**
 * Bounds label cardinality: names must look like GraphQL names and only the first
 * MAX_OPERATION_LABELS distinct ones are kept; the rest count as "other".
 */
export function operationLabeler(
  max = MAX_OPERATION_LABELS,
): (name: string | null | undefined, parsed: boolean) => string {
  const seen = new Set<string>();
  return (name, parsed) => {
    if (!parsed) return 'invalid';
    if (!name) return 'anonymous';
    if (!/^[_A-Za-z][_0-9A-Za-z]{0,63}$/.test(name)) return 'other';
    if (seen.has(name)) return name;
    if (seen.size >= max) return 'other';
    seen.add(name);
    return name;
  };
}

/** Counts and times every HTTP GraphQL operation. */
export function metricsPlugin(metrics: Metrics): ApolloServerPlugin {
  const label = operationLabeler();
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse(rc) {
          const operation = label(rc.operationName, !!rc.operation);
          const type = rc.operation?.operation ?? 'unknown';
          const body = rc.response.body;
          const failed = body.kind === 'single' && !!body.singleResult.errors?.length;
          metrics.graphqlRequests.inc({ operation, type, outcome: failed ? 'error' : 'ok' });
          metrics.graphqlDuration.observe({ operation, type }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };
}
