import { graphql, type GraphQLSchema } from 'graphql';
import { Role } from '../../src/entities';
import { buildContext } from '../../src/app/build-context';
import { openDatabase, type Database } from '../../src/infra/database/database';
import { buildAppSchema } from '../../src/schema/build';
import type { TestServer } from './server';

/** Runs GraphQL in-process on a second connection pool that records every SQL statement. */
export interface StatementCounter {
  /** Executes `source` as `user` (a clinician); the statements are those of this run only. */
  run(
    source: string,
    variableValues?: Record<string, unknown>,
  ): Promise<{ data: any; errors: readonly unknown[] | undefined; statements: string[] }>;
  close(): Promise<void>;
}

export async function statementCounter(
  server: TestServer,
  user: { id: string; email: string; role?: Role },
): Promise<StatementCounter> {
  let statements: string[] = [];
  const counting: Database = await openDatabase(server.config, server.services.logger, {
    migrate: false,
    onQuery: (sql) => statements.push(sql),
  });
  const schema: GraphQLSchema = await buildAppSchema();
  return {
    async run(source, variableValues = {}) {
      statements = [];
      const contextValue = buildContext({
        services: { ...server.services, db: counting },
        user: { id: user.id, email: user.email, role: user.role ?? Role.CLINICIAN },
        ip: '127.0.0.1',
        userAgent: 'jest',
      });
      const res = await graphql({ schema, source, variableValues, contextValue });
      return { data: res.data as any, errors: res.errors, statements };
    },
    close: () => counting.close(),
  };
}

/** The statements MikroORM logged as queries (its logger also reports other events). */
export const queries = (statements: string[]) => statements.filter((s) => s.includes('[query]'));
