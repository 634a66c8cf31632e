import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  type DocumentNode,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphqlConfig } from '../config';
import { operationCost } from './query-cost';

/** The code of an operation refused for its size, before any resolver runs (HTTP 400; docs/errors.md). */
export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

/** Which limit refused it: `GRAPHQL_MAX_COST`, `_DEPTH`, `_ALIASES`, `_TOKENS`, or the directive limit (50). */
export type QueryLimit = 'COST' | 'DEPTH' | 'ALIASES' | 'DIRECTIVES' | 'TOKENS';

/** An operation over one of the limits: `extensions: { code: QUERY_TOO_COMPLEX, reason, max, cost? }`. */
export class QueryLimitError extends GraphQLError {
  constructor(
    readonly reason: QueryLimit,
    message: string,
    details: { max: number; cost?: number },
    source?: Pick<GraphQLError, 'source' | 'positions' | 'nodes'>,
  ) {
    super(message, {
      source: source?.source,
      positions: source?.positions,
      nodes: source?.nodes,
      extensions: { code: QUERY_TOO_COMPLEX, reason, ...details },
    });
    this.name = 'QueryLimitError';
  }
}

/** The directives one operation may carry (not configurable: no client needs many). */
export const MAX_DIRECTIVES = 50;

/**
 * The hardening every transport applies, decided in one place: query depth, cost, alias,
 * directive and token limits, introspection, and field suggestions ("did you mean": they leak the
 * schema). Introspection and suggestions are off wherever GraphiQL is off (production unless
 * GRAPHIQL=1). Apollo (HTTP) takes `plugins`, `validationRules`, `parseOptions` and the
 * `introspection` flag; graphql-ws takes `parse`, `allValidationRules`, `checkCost` and `maskSuggestions`.
 *
 * Every limit refuses with QUERY_TOO_COMPLEX and a `reason` (HTTP 400): depth, aliases and directives
 * are graphql-armor's validation rules; tokens are counted by graphql-js while parsing; the cost
 * (query-cost.ts) is computed once the operation and its variables are known, since a page size given
 * in a variable counts as much as one written in the document.
 */
export interface Armor {
  introspection: boolean;
  /** Apollo: the cost limit (once the operation is resolved) and suggestion masking. */
  plugins: ApolloServerPlugin[];
  /** Apollo: depth, alias and directive limits (Apollo adds graphql's own rules and, from `introspection`, its no-introspection rule). */
  validationRules: ValidationRule[];
  /** Apollo: the token limit while parsing. */
  parseOptions: ParseOptions;
  /** Other transports: graphql's rules, the depth, alias and directive limits and, where introspection is off, no introspection. */
  allValidationRules: ValidationRule[];
  /** Parses with the token limit (graphql-js stops lexing past it, so a long token stream costs little); throws QueryLimitError past it. */
  parse(source: string): DocumentNode;
  /** Other transports, after validation: the refusal of an operation over the cost limit, or undefined. */
  checkCost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operationName?: string | null,
    variables?: Readonly<Record<string, unknown>> | null,
  ): QueryLimitError | undefined;
  /** The message without "Did you mean ...?" where suggestions are off. */
  maskSuggestions(message: string): string;
}

const SUGGESTION = / ?Did you mean .+?\?/g;
/** graphql-js's own message for `maxTokens` (16.x spells it "more that"). */
const TOKEN_LIMIT = /^Syntax Error: Document contains more th(?:an|at) (\d+) tokens/;

/**
 * The size refusal an error is or wraps, or undefined: a QueryLimitError (Apollo wraps validation
 * errors in its own class, the original in `originalError`), or graphql-js's token-limit syntax error,
 * which Apollo raises from its own parse call and which is recognised by its message.
 */
export function queryLimitOf(err: unknown): QueryLimitError | undefined {
  for (let e = err, hops = 0; e instanceof Error && hops < 5; e = (e as GraphQLError).originalError, hops++) {
    if (e instanceof QueryLimitError) return e;
    const tokens = e instanceof GraphQLError ? TOKEN_LIMIT.exec(e.message) : null;
    if (tokens) {
      const max = Number(tokens[1]);
      return new QueryLimitError('TOKENS', `The document has more than ${max} tokens`, { max }, e as GraphQLError);
    }
  }
  return undefined;
}

function costRefusal(cost: number, max: number): QueryLimitError | undefined {
  if (cost <= max) return undefined;
  const shown = Number.isFinite(cost) ? Math.ceil(cost) : Number.MAX_SAFE_INTEGER;
  return new QueryLimitError(
    'COST',
    `Query cost ${shown} exceeds the limit of ${max}: ask for smaller pages or fewer nested connections`,
    { max, cost: shown },
  );
}

/** graphql-armor's refusal (a "Syntax Error: ..." GraphQLError) reported as ours, without the misleading prefix. */
const reportAs =
  (reason: QueryLimit, max: number) =>
  (context: ValidationContext | null, err: GraphQLError): void => {
    const message = err.message.replace(/^Syntax Error: /, '');
    context?.reportError(new QueryLimitError(reason, message, { max }, err));
  };

export function createArmor(config: GraphqlConfig): Armor {
  const introspection = config.graphiqlEnabled;
  const maxCost = config.GRAPHQL_MAX_COST;
  const rule = (reason: QueryLimit, n: number) => ({
    n,
    onReject: [reportAs(reason, n)],
    propagateOnRejection: false, // reported through the validation context, not thrown
  });
  const protection = new ApolloArmor({
    maxDepth: { ...rule('DEPTH', config.GRAPHQL_MAX_DEPTH), ignoreIntrospection: true, flattenFragments: true },
    maxAliases: rule('ALIASES', config.GRAPHQL_MAX_ALIASES),
    maxDirectives: rule('DIRECTIVES', MAX_DIRECTIVES),
    // Ours: armor's cost ignores page sizes given in variables; its token plugin answers 500 from Apollo.
    costLimit: { enabled: false },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: !introspection },
  }).protect();

  const costPlugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request }) {
          const refusal = costRefusal(
            operationCost(schema, document, request.operationName, request.variables),
            maxCost,
          );
          // Thrown here, Apollo answers it as it is; the status comes from `http`, which Apollo removes.
          if (refusal)
            throw new GraphQLError(refusal.message, {
              originalError: refusal,
              extensions: { ...refusal.extensions, http: { status: 400 } },
            });
        },
      };
    },
  };

  return {
    introspection,
    plugins: [...(protection.plugins as ApolloServerPlugin[]), costPlugin],
    validationRules: protection.validationRules,
    parseOptions: { maxTokens: config.GRAPHQL_MAX_TOKENS },
    allValidationRules: [
      ...specifiedRules,
      ...protection.validationRules,
      ...(introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    ],
    parse(source) {
      try {
        return parse(source, { maxTokens: config.GRAPHQL_MAX_TOKENS });
      } catch (err) {
        throw queryLimitOf(err) ?? err;
      }
    },
    checkCost: (schema, document, operationName, variables) =>
      costRefusal(operationCost(schema, document, operationName, variables), maxCost),
    maskSuggestions: (message) => (introspection ? message : message.replace(SUGGESTION, '')),
  };
}
