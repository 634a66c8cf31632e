import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { Config } from '../config';

/**
 * Query depth, cost, alias, directive and token limits (graphql-armor). The same validation rules
 * guard HTTP (Apollo) and WebSocket (graphql-ws) operations. Field suggestions ("did you mean")
 * leak the schema, so they are off wherever introspection is off.
 */
export function createArmor(config: Config) {
  return new ApolloArmor({
    maxDepth: { n: config.GRAPHQL_MAX_DEPTH, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: config.GRAPHQL_MAX_ALIASES },
    costLimit: { maxCost: config.GRAPHQL_MAX_COST, ignoreIntrospection: true },
    maxDirectives: { n: 50 },
    maxTokens: { n: config.GRAPHQL_MAX_TOKENS },
    blockFieldSuggestion: { enabled: !config.graphiqlEnabled },
  }).protect();
}
