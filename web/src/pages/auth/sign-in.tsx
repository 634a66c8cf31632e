// Sign in: email and password, then, on accounts with 2FA, a code from the authenticator app or a recovery code.
import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { useAuth, useNextPath } from '../../app/auth';
import { AuthFrame } from '../../app/layout';
import { acceptAuthPayload, deviceTokenFor } from '../../app/session';
import { Button, ErrorMessage, Field, Notice, PageTitle, useGraphQLErrors } from '../../ui';
import { LoginMutation, ResendVerificationMutation, VerifyTwoFactorMutation } from './operations';

export function SignInPage() {
  const { user } = useAuth();
  const next = useNextPath();
  const [challenge, setChallenge] = useState<string | null>(null);
  if (user) return <Navigate to={next} replace />;
  return (
    <AuthFrame>
      {challenge ? (
        <SecondFactor challengeToken={challenge} onRestart={() => setChallenge(null)} />
      ) : (
        <PasswordStep onChallenge={setChallenge} />
      )}
    </AuthFrame>
  );
}

function PasswordStep({ onChallenge }: { onChallenge(token: string): void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [login, run] = useMutation(LoginMutation);
  const [resent, resend] = useMutation(ResendVerificationMutation);
  const errors = useGraphQLErrors(login.error, ['email', 'password']);
  const navigate = useNavigate();
  const next = useNextPath();
  const unverified = errors.all.some((e) => e.reason === 'EMAIL_NOT_VERIFIED');

  async function submit(e: FormEvent) {
    e.preventDefault();
    const result = await run({ email, password, deviceToken: deviceTokenFor(email) });
    const payload = result.data?.login;
    if (!payload) return;
    if (payload.twoFactorRequired && payload.challengeToken) onChallenge(payload.challengeToken);
    else if (acceptAuthPayload(payload)) navigate(next, { replace: true });
  }

  return (
    <>
      <PageTitle>Sign in</PageTitle>
      <form onSubmit={submit} noValidate>
        <ErrorMessage errors={errors.others} />
        <Field
          label="Email"
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          error={errors.fieldError('email')}
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          error={errors.fieldError('password')}
        />
        <Button type="submit" variant="primary" busy={login.fetching}>
          Sign in
        </Button>
      </form>
      {unverified &&
        (resent.data ? (
          <Notice>A new confirmation link is on its way to {email}.</Notice>
        ) : (
          <Button variant="quiet" busy={resent.fetching} onClick={() => void resend({ email })}>
            Send the confirmation link again
          </Button>
        ))}
      <p className="auth-links">
        <Link to="/forgot-password">Forgot your password?</Link> · <Link to="/register">Create an account</Link>
      </p>
    </>
  );
}

function SecondFactor({ challengeToken, onRestart }: { challengeToken: string; onRestart(): void }) {
  const [useRecovery, setUseRecovery] = useState(false);
  const [code, setCode] = useState('');
  const [verify, run] = useMutation(VerifyTwoFactorMutation);
  const errors = useGraphQLErrors(verify.error, ['code']);
  const navigate = useNavigate();
  const next = useNextPath();
  const expired = errors.all.some((e) => e.field === 'challengeToken');

  async function submit(e: FormEvent) {
    e.preventDefault();
    const result = await run({ challengeToken, code: code.trim() });
    if (result.data && acceptAuthPayload(result.data.verifyTwoFactor)) navigate(next, { replace: true });
  }

  return (
    <>
      <PageTitle>Two-step verification</PageTitle>
      <p>
        {useRecovery
          ? 'Enter one of the recovery codes you saved when you turned on two-step verification. Each works once.'
          : 'Enter the 6-digit code from your authenticator app.'}
      </p>
      <form onSubmit={submit} noValidate>
        <ErrorMessage errors={errors.others} />
        {useRecovery ? (
          <Field
            key="recovery"
            label="Recovery code"
            name="code"
            autoComplete="off"
            placeholder="xxxx-xxxx-xxxx-xxxx"
            required
            value={code}
            onChange={(e) => setCode(e.currentTarget.value)}
            error={errors.fieldError('code')}
          />
        ) : (
          <Field
            key="totp"
            label="Authentication code"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6}"
            maxLength={6}
            required
            value={code}
            onChange={(e) => setCode(e.currentTarget.value)}
            error={errors.fieldError('code')}
          />
        )}
        <Button type="submit" variant="primary" busy={verify.fetching}>
          Verify
        </Button>
      </form>
      <p className="auth-links">
        <button
          type="button"
          className="link-button"
          onClick={() => {
            setUseRecovery(!useRecovery);
            setCode('');
          }}
        >
          {useRecovery ? 'Use the authenticator app instead' : 'Use a recovery code instead'}
        </button>
        {' · '}
        <button type="button" className="link-button" onClick={onRestart}>
          {expired ? 'The sign-in expired: start again' : 'Start again'}
        </button>
      </p>
    </>
  );
}
