// The admin pages' GraphQL operations (typed by graphql-codegen from schema.graphql).
import { graphql } from '../../gql';

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

export const SetUserPlanMutation = graphql(`
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
