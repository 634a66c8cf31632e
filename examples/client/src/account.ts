// Getting a signed-in user the way a person would: sign up, confirm the address with the link from the
// verification mail, sign in. With no SMTP_URL (`npm start`), the server keeps mail in its outbox and, in
// development (the default NODE_ENV), prints each message's text in its log: the link is read from there.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Api } from './client.js';
import { graphql } from './gql/index.js';

const Register = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      id
      email
    }
  }
`);

const VerifyEmail = graphql(`
  mutation VerifyEmail($token: String!) {
    verifyEmail(token: $token) {
      id
      emailVerified
    }
  }
`);

const Login = graphql(`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      accessToken
      twoFactorRequired
      user {
        id
        email
        role
      }
    }
  }
`);

/** The token of the newest verification link mailed to `email`, from the server's JSON log lines. */
export async function verificationTokenFromLog(logPath: string, email: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(logPath, 'utf8').catch(() => '');
    let token: string | undefined;
    for (const line of text.split('\n')) {
      if (!line.includes('verify-email')) continue;
      try {
        const mail = (JSON.parse(line) as { mail?: { to?: string; text?: string } }).mail;
        const match =
          mail?.to?.toLowerCase() === email.toLowerCase() && /verify-email\?token=([^\s&]+)/.exec(mail.text ?? '');
        if (match) token = decodeURIComponent(match[1]);
      } catch {
        // not a JSON log line
      }
    }
    if (token) return token;
    if (Date.now() > deadline)
      throw new Error(
        `no verification mail to ${email} in ${logPath} (the server prints mail bodies when NODE_ENV=development)`,
      );
    await sleep(200);
  }
}

/** Asks on the terminal for the link (or its token) from the verification mail. */
async function verificationTokenFromPrompt(email: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Paste the link from the verification mail sent to ${email}: `);
    return decodeURIComponent(/token=([^\s&]+)/.exec(answer)?.[1] ?? answer.trim());
  } finally {
    rl.close();
  }
}

export async function signIn(api: Api, email: string, password: string) {
  const { data } = await api.apollo.mutate({ mutation: Login, variables: { email, password } });
  const login = data!.login;
  if (login.twoFactorRequired) throw new Error('this account has two-factor sign-in: use one without, for the example');
  api.setAccessToken(login.accessToken!);
  return login.user!;
}

/** A new CLINICIAN account, confirmed and signed in. */
export async function signUp(api: Api, input: { email: string; password: string; name: string; serverLog?: string }) {
  const { email, password, name } = input;
  await api.apollo.mutate({ mutation: Register, variables: { input: { email, password, name } } });
  const token = input.serverLog
    ? await verificationTokenFromLog(input.serverLog, email)
    : await verificationTokenFromPrompt(email);
  const { data } = await api.apollo.mutate({ mutation: VerifyEmail, variables: { token } });
  if (!data!.verifyEmail.emailVerified) throw new Error('the address was not confirmed');
  return signIn(api, email, password);
}
