// Two-step verification: enrol (scan the QR code, confirm with a code, see the recovery codes once) or turn it off.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { updateSessionUser } from '../../app/session';
import { Button, ErrorMessage, Field, Notice, PageTitle, apiErrors, useGraphQLErrors } from '../../ui';
import {
  BeginTwoFactorMutation,
  ConfirmTwoFactorMutation,
  DisableTwoFactorMutation,
  SecurityQuery,
} from './operations';

export function SecurityPage() {
  const [{ data, error }, refetch] = useQuery({ query: SecurityQuery });
  const [codes, setCodes] = useState<string[] | null>(null);
  const enabled = data?.me?.twoFactorEnabled;
  const reload = () => refetch({ requestPolicy: 'network-only' });

  return (
    <section className="page">
      <PageTitle>Security</PageTitle>
      <ErrorMessage errors={apiErrors(error)} />
      <h2>Two-step verification</h2>
      {codes ? (
        <RecoveryCodes codes={codes} onDone={() => setCodes(null)} />
      ) : enabled === undefined ? (
        <p role="status">Loading…</p>
      ) : enabled ? (
        <Disable onDone={reload} />
      ) : (
        <Enrol
          onEnabled={(c) => {
            setCodes(c);
            updateSessionUser({ twoFactorEnabled: true });
            reload();
          }}
        />
      )}
    </section>
  );
}

function Enrol({ onEnabled }: { onEnabled(codes: string[]): void }) {
  const [begin, start] = useMutation(BeginTwoFactorMutation);
  const [confirm, finish] = useMutation(ConfirmTwoFactorMutation);
  const [code, setCode] = useState('');
  const beginErrors = useGraphQLErrors(begin.error, []);
  const errors = useGraphQLErrors(confirm.error, ['code']);
  const enrollment = begin.data?.beginTwoFactorEnrollment;

  async function submit(e: FormEvent) {
    e.preventDefault();
    const result = await finish({ code: code.trim() });
    if (result.data) onEnabled(result.data.confirmTwoFactorEnrollment);
  }

  if (!enrollment) {
    return (
      <>
        <p>
          Two-step verification is <strong>off</strong>. Turn it on to ask for a code from an authenticator app (any
          TOTP app) after your password.
        </p>
        <ErrorMessage errors={beginErrors.all} />
        <Button variant="primary" busy={begin.fetching} onClick={() => void start({})}>
          Turn on two-step verification
        </Button>
      </>
    );
  }
  return (
    <div className="enrol">
      <ol className="steps">
        <li>
          <p>Scan this QR code with your authenticator app.</p>
          <img
            className="qr"
            src={enrollment.qrCodeDataUrl}
            width={200}
            height={200}
            alt={`QR code of the authenticator setup; or type the key ${enrollment.secret}`}
          />
          <p>
            Or type this key:{' '}
            <code className="secret" data-testid="totp-secret">
              {enrollment.secret}
            </code>
          </p>
        </li>
        <li>
          <form onSubmit={submit} noValidate>
            <ErrorMessage errors={errors.others} />
            <Field
              label="Code from the app"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              required
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
              error={errors.fieldError('code')}
            />
            <Button type="submit" variant="primary" busy={confirm.fetching}>
              Confirm and turn on
            </Button>
          </form>
        </li>
      </ol>
    </div>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone(): void }) {
  return (
    <>
      <Notice tone="success">Two-step verification is on.</Notice>
      <p>
        <strong>Save these recovery codes now; they are shown only this once.</strong> Each one signs you in once when
        you do not have your authenticator app.
      </p>
      <ul className="recovery-codes" aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <Button variant="primary" onClick={onDone}>
        I have saved them
      </Button>
    </>
  );
}

function Disable({ onDone }: { onDone(): void }) {
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [result, disable] = useMutation(DisableTwoFactorMutation);
  const errors = useGraphQLErrors(result.error, ['code', 'password']);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await disable({ code: code.trim(), password });
    if (r.data?.disableTwoFactor) {
      updateSessionUser({ twoFactorEnabled: false });
      onDone();
    }
  }

  return (
    <>
      <p>
        Two-step verification is <strong>on</strong>.
      </p>
      <form onSubmit={submit} noValidate className="form-narrow">
        <h3>Turn it off</h3>
        <ErrorMessage errors={errors.others} />
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
        <Field
          label="Code from the app, or a recovery code"
          name="code"
          autoComplete="one-time-code"
          required
          value={code}
          onChange={(e) => setCode(e.currentTarget.value)}
          error={errors.fieldError('code')}
        />
        <Button type="submit" variant="danger" busy={result.fetching}>
          Turn off two-step verification
        </Button>
      </form>
    </>
  );
}
