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
          invitationPending
          createdAt
          lastLoginAt
          usage {
            uploads
            predictions
            segmentations
            reports
          }
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

export const SetUserNameMutation = graphql(`
  mutation AdminSetUserName($userId: ID!, $name: String) {
    setUserName(userId: $userId, name: $name) {
      id
      name
    }
  }
`);

export const InviteUserMutation = graphql(`
  mutation AdminInviteUser($input: InviteUserInput!) {
    inviteUser(input: $input) {
      id
      email
      invitationPending
    }
  }
`);

export const SendUserPasswordResetMutation = graphql(`
  mutation AdminSendUserPasswordReset($userId: ID!, $signOut: Boolean!) {
    sendUserPasswordReset(userId: $userId, signOut: $signOut) {
      id
      invitationPending
    }
  }
`);

export const DeleteUserMutation = graphql(`
  mutation AdminDeleteUser($userId: ID!, $successorId: ID) {
    deleteUser(userId: $userId, successorId: $successorId) {
      userId
      outcome
      patientsTransferred
      patientsArchived
      successorId
    }
  }
`);

/**
 * Who may take over a deleted account's patients: enabled clinicians and admins who have signed up (the successor
 * select), the first 100 of each role.
 */
export const SuccessorsQuery = graphql(`
  query AdminSuccessors {
    clinicians: users(filter: { role: CLINICIAN, disabled: false, invitationPending: false }, first: 100) {
      edges {
        node {
          id
          email
          name
        }
      }
    }
    admins: users(filter: { role: ADMIN, disabled: false, invitationPending: false }, first: 100) {
      edges {
        node {
          id
          email
          name
        }
      }
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
      queueDepth
      workersSeen
      process {
        id
      }
      processes {
        id
        role
        host
        pid
        startedAt
        seenAt
        memory {
          rssBytes
          heapUsedBytes
          heapTotalBytes
        }
        eventLoopDelay {
          p50Ms
          p99Ms
          windowSeconds
        }
        models {
          name
          version
          device
          status
          active
        }
      }
    }
  }
`);

export const AllJobsQuery = graphql(`
  query AdminAllJobs($status: [JobStatus!], $first: Int, $after: String) {
    allJobs(status: $status, first: $first, after: $after) {
      totalCount
      edges {
        node {
          id
          kind
          status
          ownerId
          error
          attempts
          imageCount
          createdAt
          finishedAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const RetryJobMutation = graphql(`
  mutation AdminRetryJob($id: ID!) {
    retryJob(id: $id) {
      id
      status
      error
      attempts
      finishedAt
    }
  }
`);

/** A job owner's address (allJobs gives only ownerId; node(id) finds the account for admins). */
export const JobOwnerQuery = graphql(`
  query AdminJobOwner($id: ID!) {
    node(id: $id) {
      id
      ... on User {
        email
      }
    }
  }
`);
