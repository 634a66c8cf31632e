import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  type DocumentNode,
  type ValidationRule,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphqlConfig } from '../config';

/**
 * The hardening every transport applies, decided in one place: query depth, cost, alias,
 * directive and token limits (graphql-armor), introspection, and field suggestions ("did you
 * mean": they leak the schema). Introspection and suggestions are off wherever GraphiQL is off
 * (production unless GRAPHIQL=1). Apollo (HTTP) takes `plugins`, `validationRules` and the
 * `introspection` flag; graphql-ws takes `parse`, `allValidationRules` and `maskSuggestions`.
 */
export interface Armor {
  introspection: boolean;
  /** Apollo: the token limit at parse time and suggestion masking. */
  plugins: ApolloServerPlugin[];
  /** Apollo: armor's limits (Apollo adds graphql's own rules and, from `introspection`, its no-introspection rule). */
  validationRules: ValidationRule[];
  /** Other transports: graphql's rules, armor's limits and, where introspection is off, no introspection. */
  allValidationRules: ValidationRule[];
  /** Parses with the token limit (graphql-js stops lexing past it, so a long token stream costs little). */
  parse(source: string): DocumentNode;
  /** The message without "Did you mean ...?" where suggestions are off. */
  maskSuggestions(message: string): string;
}

const SUGGESTION = / ?Did you mean .+?\?/g;

export function createArmor(config: GraphqlConfig): Armor {
  const introspection = config.graphiqlEnabled;
  const protection = new ApolloArmor({
    maxDepth: { n: config.GRAPHQL_MAX_DEPTH, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: config.GRAPHQL_MAX_ALIASES },
    costLimit: { maxCost: config.GRAPHQL_MAX_COST, ignoreIntrospection: true },
    maxDirectives: { n: 50 },
    maxTokens: { n: config.GRAPHQL_MAX_TOKENS },
    blockFieldSuggestion: { enabled: !introspection },
  }).protect();
  return {
    introspection,
    plugins: protection.plugins as ApolloServerPlugin[],
    validationRules: protection.validationRules,
    allValidationRules: [
      ...specifiedRules,
      ...protection.validationRules,
      ...(introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    ],
    parse: (source) => parse(source, { maxTokens: config.GRAPHQL_MAX_TOKENS }),
    maskSuggestions: (message) => (introspection ? message : message.replace(SUGGESTION, '')),
  };
}
