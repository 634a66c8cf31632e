// Ask for a password reset link. The answer is the same whether or not the address has an account.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation } from 'urql';
import { AuthFrame } from '../../app/layout';
import { Button, ErrorMessage, Field, Notice, PageTitle, useGraphQLErrors } from '../../ui';
import { RequestPasswordResetMutation } from './operations';

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [result, request] = useMutation(RequestPasswordResetMutation);
  const errors = useGraphQLErrors(result.error, ['email']);

  function submit(e: FormEvent) {
    e.preventDefault();
    void request({ email });
  }

  return (
    <AuthFrame>
      <PageTitle>Reset your password</PageTitle>
      {result.data ? (
        <Notice tone="success">
          If <strong>{email}</strong> has an account, a link to choose a new password is on its way. It works for 30
          minutes.
        </Notice>
      ) : (
        <form onSubmit={submit} noValidate>
          <p>Enter the address you sign in with; we will mail you a link to choose a new password.</p>
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
          <Button type="submit" variant="primary" busy={result.fetching}>
            Send the link
          </Button>
        </form>
      )}
      <p className="auth-links">
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </AuthFrame>
  );
}
