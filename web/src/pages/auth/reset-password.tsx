// The mailed reset link lands here (/reset-password?token=...): choose a new password. Every session ends;
// two-step verification stays on. Without JavaScript the server's plain form does the same.
import { useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router';
import { useMutation } from 'urql';
import { AuthFrame } from '../../app/layout';
import { Button, ErrorMessage, Field, Notice, PageTitle, useGraphQLErrors } from '../../ui';
import { ResetPasswordMutation } from './operations';
import { PASSWORD_HINT, tokenFromSearch } from './password';

export function ResetPasswordPage() {
  const token = tokenFromSearch(useLocation().search);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [result, reset] = useMutation(ResetPasswordMutation);
  const errors = useGraphQLErrors(result.error, ['newPassword']);

  function submit(e: FormEvent) {
    e.preventDefault();
    setMismatch(password !== confirm);
    if (password === confirm) void reset({ token, newPassword: password });
  }

  if (result.data?.resetPassword) {
    return (
      <AuthFrame>
        <PageTitle>Password changed</PageTitle>
        <Notice tone="success">
          Your password is changed. Every session was signed out: sign in with the new one.
        </Notice>
        <p className="auth-links">
          <Link to="/sign-in">Sign in</Link>
        </p>
      </AuthFrame>
    );
  }

  return (
    <AuthFrame>
      <PageTitle>Choose a new password</PageTitle>
      {token ? (
        <form onSubmit={submit} noValidate>
          <ErrorMessage errors={errors.others} />
          {errors.others.some((e) => e.field === 'token') && (
            <p>
              <Link to="/forgot-password">Ask for a new link</Link>
            </p>
          )}
          <Field
            label="New password"
            type="password"
            name="newPassword"
            autoComplete="new-password"
            required
            hint={PASSWORD_HINT}
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={errors.fieldError('newPassword')}
          />
          <Field
            label="The same password again"
            type="password"
            name="confirm"
            autoComplete="new-password"
            required
            value={confirm}
            onChange={(e) => setConfirm(e.currentTarget.value)}
            error={mismatch ? 'The two passwords are not the same.' : undefined}
          />
          <Button type="submit" variant="primary" busy={result.fetching}>
            Set the new password
          </Button>
        </form>
      ) : (
        <ErrorMessage
          errors={['This address has no token. Open the link from the mail as it is, or copy all of it.']}
        />
      )}
      <p className="auth-links">
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </AuthFrame>
  );
}
