// The admin pages' GraphQL operations (typed by graphql-codegen from schema.graphql).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { graphql } from '../../gql';
import type { Plan } from '../../gql/graphql';

export const UsersQuery = graphql(`
  query AdminUsers($filter: UserFilter, $first: Int, $after: String) {
    users(filter: $filter, first: $first, after: $after) {
      totalCount
      edges {
        node {
          id
          email
          name
          role
          plan
          disabled
          emailVerified
          twoFactorEnabled
          createdAt
          lastLoginAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const SetUserRoleMutation = graphql(`
  mutation AdminSetUserRole($userId: ID!, $role: Role!) {
    setUserRole(userId: $userId, role: $role) {
      id
      role
    }
  }
`);

// setUserPlan (users [13]) is served, but the committed schema.graphql does not have it yet: parsed here rather than
// through graphql(), so codegen and the build do not depend on the schema's next regeneration. Once schema.graphql
// has it, this can become a graphql(`...`) document like the others.
export const SetUserPlanMutation: TypedDocumentNode<
  { setUserPlan: { id: string; plan: Plan } },
  { userId: string; plan: Plan }
> = parse(`
  mutation AdminSetUserPlan($userId: ID!, $plan: Plan!) {
    setUserPlan(userId: $userId, plan: $plan) {
      id
      plan
    }
  }
`);

export const SetUserDisabledMutation = graphql(`
  mutation AdminSetUserDisabled($userId: ID!, $disabled: Boolean!) {
    setUserDisabled(userId: $userId, disabled: $disabled) {
      id
      disabled
    }
  }
`);

export const ResetUserTwoFactorMutation = graphql(`
  mutation AdminResetUserTwoFactor($userId: ID!) {
    resetUserTwoFactor(userId: $userId) {
      id
      twoFactorEnabled
    }
  }
`);

export const AuditLogQuery = graphql(`
  query AdminAuditLog($filter: AuditLogFilter, $first: Int, $after: String, $last: Int, $before: String) {
    auditLog(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges {
        node {
          id
          action
          success
          createdAt
          ip
          userAgent
          details
          userId
          user {
            id
            email
          }
          actor {
            id
            email
          }
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`);

export const SystemStatusQuery = graphql(`
  query AdminSystemStatus {
    systemStatus {
      version
      nodeVersion
      startedAt
      uptimeSeconds
      database {
        kind
        state
        latencyMs
      }
      redis {
        kind
        state
        latencyMs
      }
    }
  }
`);
