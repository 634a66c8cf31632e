// The mailed verification link lands here (/verify-email?token=...). Opening it changes nothing, since mail
// scanners open links too: the button spends the token. Without JavaScript the server's plain form does the same.
import { Link, useLocation } from 'react-router';
import { useMutation } from 'urql';
import { AuthFrame } from '../../app/layout';
import { Button, ErrorMessage, Notice, PageTitle, useGraphQLErrors } from '../../ui';
import { VerifyEmailMutation } from './operations';
import { tokenFromSearch } from './password';

export function VerifyEmailPage() {
  const token = tokenFromSearch(useLocation().search);
  const [result, verify] = useMutation(VerifyEmailMutation);
  const errors = useGraphQLErrors(result.error, []);

  if (result.data) {
    return (
      <AuthFrame>
        <PageTitle>Email address confirmed</PageTitle>
        <Notice tone="success">
          <strong>{result.data.verifyEmail.email}</strong> is confirmed. You can sign in now.
        </Notice>
        <p className="auth-links">
          <Link to="/sign-in">Sign in</Link>
        </p>
      </AuthFrame>
    );
  }

  return (
    <AuthFrame>
      <PageTitle>Confirm your email address</PageTitle>
      {token ? (
        <>
          <p>Press the button to confirm the email address of your Dermagraph account.</p>
          <ErrorMessage errors={errors.all} />
          {errors.all.length > 0 && <p>Ask for a new link by signing in: the sign-in page offers to send one.</p>}
          <Button variant="primary" busy={result.fetching} onClick={() => void verify({ token })}>
            Confirm my email address
          </Button>
        </>
      ) : (
        <ErrorMessage
          errors={['This address has no token. Open the link from the mail as it is, or copy all of it.']}
        />
      )}
      <p className="auth-links">
        <Link to="/sign-in">Sign in</Link>
      </p>
    </AuthFrame>
  );
}
