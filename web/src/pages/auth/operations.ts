// The account operations of the signed-out pages and of the security page (typed by graphql-codegen).
import { graphql } from '../../gql';

export const LoginMutation = graphql(`
  mutation Login($email: String!, $password: String!, $deviceToken: String) {
    login(email: $email, password: $password, deviceToken: $deviceToken) {
      twoFactorRequired
      challengeToken
      accessToken
      accessTokenExpiresAt
      refreshToken
      deviceToken
      user {
        id
        email
        name
        role
        twoFactorEnabled
      }
    }
  }
`);

export const VerifyTwoFactorMutation = graphql(`
  mutation VerifyTwoFactor($challengeToken: String!, $code: String!) {
    verifyTwoFactor(challengeToken: $challengeToken, code: $code) {
      accessToken
      accessTokenExpiresAt
      refreshToken
      deviceToken
      user {
        id
        email
        name
        role
        twoFactorEnabled
      }
    }
  }
`);

export const RegisterMutation = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      id
      email
    }
  }
`);

export const VerifyEmailMutation = graphql(`
  mutation VerifyEmail($token: String!) {
    verifyEmail(token: $token) {
      id
      email
      emailVerified
    }
  }
`);

export const ResendVerificationMutation = graphql(`
  mutation ResendVerification($email: String!) {
    resendVerificationEmail(email: $email)
  }
`);

export const RequestPasswordResetMutation = graphql(`
  mutation RequestPasswordReset($email: String!) {
    requestPasswordReset(email: $email)
  }
`);

export const ResetPasswordMutation = graphql(`
  mutation ResetPassword($token: String!, $newPassword: String!) {
    resetPassword(token: $token, newPassword: $newPassword)
  }
`);

export const SecurityQuery = graphql(`
  query Security {
    me {
      id
      email
      twoFactorEnabled
    }
  }
`);

export const BeginTwoFactorMutation = graphql(`
  mutation BeginTwoFactor {
    beginTwoFactorEnrollment {
      secret
      otpauthUrl
      qrCodeDataUrl
    }
  }
`);

export const ConfirmTwoFactorMutation = graphql(`
  mutation ConfirmTwoFactor($code: String!) {
    confirmTwoFactorEnrollment(code: $code)
  }
`);

export const DisableTwoFactorMutation = graphql(`
  mutation DisableTwoFactor($code: String!, $password: String!) {
    disableTwoFactor(code: $code, password: $password)
  }
`);
