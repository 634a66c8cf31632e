// The logs page's GraphQL operations (typed by graphql-codegen from schema.graphql).
import { graphql } from '../../../gql';

export const ServerLogLineFields = graphql(`
  fragment AdminServerLogLine on ServerLogLine {
    time
    level
    message
    requestId
    json
    source {
      id
      role
      host
      pid
    }
  }
`);

export const ServerLogsQuery = graphql(`
  query AdminServerLogs($level: LogLevel!, $limit: Int!, $since: DateTime) {
    serverLogs(level: $level, limit: $limit, since: $since) {
      lines {
        ...AdminServerLogLine
      }
      sources {
        answered
        source {
          id
          role
          host
          pid
        }
      }
    }
  }
`);

export const ServerLogStreamSubscription = graphql(`
  subscription AdminServerLogStream($level: LogLevel!) {
    serverLogStream(level: $level) {
      ...AdminServerLogLine
    }
  }
`);
