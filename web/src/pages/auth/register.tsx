// Create an account: a CLINICIAN account whose address is confirmed through the mailed link before sign-in.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation } from 'urql';
import { AuthFrame } from '../../app/layout';
import { Button, ErrorMessage, Field, Notice, PageTitle, useGraphQLErrors } from '../../ui';
import { PASSWORD_HINT } from './password';
import { RegisterMutation } from './operations';

export function RegisterPage() {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [result, register] = useMutation(RegisterMutation);
  const errors = useGraphQLErrors(result.error, ['name', 'email', 'password']);

  function submit(e: FormEvent) {
    e.preventDefault();
    void register({ input: { email, password, name: name.trim() || null } });
  }

  if (result.data) {
    return (
      <AuthFrame>
        <PageTitle>Check your inbox</PageTitle>
        <Notice tone="success">
          We sent a confirmation link to <strong>{email}</strong>. Open it to activate the account, then sign in.
        </Notice>
        <p className="auth-links">
          <Link to="/sign-in">Go to sign in</Link>
        </p>
      </AuthFrame>
    );
  }

  return (
    <AuthFrame>
      <PageTitle>Create an account</PageTitle>
      <form onSubmit={submit} noValidate>
        <ErrorMessage errors={errors.others} />
        <Field
          label="Name (optional)"
          name="name"
          autoComplete="name"
          maxLength={200}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={errors.fieldError('name')}
        />
        <Field
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          error={errors.fieldError('email')}
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          hint={PASSWORD_HINT}
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          error={errors.fieldError('password')}
        />
        <Button type="submit" variant="primary" busy={result.fetching}>
          Create account
        </Button>
      </form>
      <p className="auth-links">
        Already registered? <Link to="/sign-in">Sign in</Link>
      </p>
    </AuthFrame>
  );
}
