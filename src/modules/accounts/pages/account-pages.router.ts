import express, { type Request, type Response } from 'express';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../../../infra/errors';
import type { RequestMeta } from '../../audit';
import type { AccountsModule } from '../accounts.module';
import type { RateLimitRule } from '../limits/rate-limit';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../passwords/password-policy';
import { markup, sendPage, type SafeHtml } from './page-html';

/** Where the mailed links point (mail-templates.ts builds them under PUBLIC_URL). */
export const VERIFY_EMAIL_PATH = '/verify-email';
export const RESET_PASSWORD_PATH = '/reset-password';

export interface AccountPagesDeps {
  auth: Pick<AccountsModule, 'registration' | 'passwords' | 'rateLimiter' | 'rateLimits'>;
  forkEm: () => EntityManager;
  logger: { error(obj: object, msg?: string): void };
}

const POLICY_HINT = `At least ${PASSWORD_MIN_LENGTH} and at most ${PASSWORD_MAX_LENGTH} characters; spaces are allowed. Not a commonly used password and not your email address.`;

/** A form field as posted (urlencoded): a single string, or '' when absent or repeated. */
function field(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

function queryToken(req: Request): string {
  return typeof req.query.token === 'string' ? req.query.token : '';
}

const meta = (req: Request): RequestMeta => ({ ip: req.ip ?? '', userAgent: String(req.headers['user-agent'] ?? '') });

function missingToken(res: Response): void {
  const body = markup`<p class="error">The address has no token. Open the link from the mail as it is, or copy all of it.</p>`;
  sendPage(res, 400, 'This link is incomplete', body);
}

/** Opening the link changes nothing: mail scanners fetch links, so only this form's POST spends the token. */
function verifyForm(token: string): SafeHtml {
  return markup`<p>Press the button to confirm the email address of your Dermagraph account.</p>
<form method="post" action="verify-email"><input type="hidden" name="token" value="${token}">
<button type="submit">Confirm my email address</button></form>`;
}

function resetForm(token: string, error?: string): SafeHtml {
  const limits = markup`required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}"`;
  return markup`${error ? markup`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="reset-password"><input type="hidden" name="token" value="${token}">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" ${limits}>
<label for="confirm">The same password again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" ${limits}>
<p class="hint">${POLICY_HINT} Setting it signs out every session; two-factor authentication stays on.</p>
<button type="submit">Set the new password</button></form>`;
}

function linkRefused(res: Response, err: AppError, next: string): void {
  sendPage(res, 400, 'This link does not work', markup`<p class="error">${err.message}.</p><p>${next}</p>`);
}

/**
 * The pages the mailed links open (until a web console serves them): plain server-rendered HTML
 * with a strict CSP, every value escaped. GET shows a form and changes nothing; POST does what the
 * verifyEmail / resetPassword mutations do, through the same services and the same rate limits.
 */
export function accountPagesRouter(deps: AccountPagesDeps): express.Router {
  const { auth, forkEm, logger } = deps;
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });

  /** Runs `action` after the rate limit; an AppError goes to `refused`, anything else is a 500 page. */
  async function attempt(
    req: Request,
    res: Response,
    rule: RateLimitRule,
    action: () => Promise<void>,
    refused: (err: AppError) => void,
  ): Promise<void> {
    try {
      await auth.rateLimiter.consume(rule, { kind: 'ip', id: req.ip || 'unknown' });
      await action();
    } catch (err) {
      if (err instanceof AppError && err.code === 'RATE_LIMITED') {
        const seconds = Number(err.extensions.retryAfterSeconds) || 60;
        res.set('retry-after', String(seconds));
        const minutes = Math.ceil(seconds / 60);
        const body = markup`<p class="error">Too many attempts from this address. Try again in ${minutes} minutes.</p>`;
        sendPage(res, 429, 'Too many attempts', body);
      } else if (err instanceof AppError) refused(err);
      else {
        logger.error({ err, path: req.path }, 'account page failed');
        sendPage(res, 500, 'Something went wrong', markup`<p class="error">Something went wrong; try again later.</p>`);
      }
    }
  }

  router.get(VERIFY_EMAIL_PATH, (req, res) => {
    const token = queryToken(req);
    if (!token) return missingToken(res);
    sendPage(res, 200, 'Confirm your email address', verifyForm(token));
  });

  router.post(VERIFY_EMAIL_PATH, form, (req, res) =>
    attempt(
      req,
      res,
      auth.rateLimits.emailVerification.perIp,
      async () => {
        const user = await auth.registration.verifyEmail(forkEm(), field(req, 'token'), meta(req));
        const body = markup`<p class="done">${user.email} is confirmed. You can sign in now.</p>`;
        sendPage(res, 200, 'Email address confirmed', body);
      },
      (err) => linkRefused(res, err, 'Ask for a new verification mail where you signed up.'),
    ),
  );

  router.get(RESET_PASSWORD_PATH, (req, res) => {
    const token = queryToken(req);
    if (!token) return missingToken(res);
    sendPage(res, 200, 'Choose a new password', resetForm(token));
  });

  router.post(RESET_PASSWORD_PATH, form, (req, res) => {
    const token = field(req, 'token');
    const password = field(req, 'password');
    return attempt(
      req,
      res,
      auth.rateLimits.passwordReset.perIp,
      async () => {
        if (password !== field(req, 'confirm'))
          return sendPage(res, 400, 'Choose a new password', resetForm(token, 'The two passwords are not the same.'));
        await auth.passwords.reset(forkEm(), token, password, meta(req));
        const body = markup`<p class="done">Your password is changed. Every session was signed out: sign in with the new password.</p>`;
        sendPage(res, 200, 'Password changed', body);
      },
      // The policy is checked before the link is spent: the same link works with another password.
      (err) =>
        err.extensions.field === 'newPassword'
          ? sendPage(res, 400, 'Choose a new password', resetForm(token, err.message))
          : linkRefused(res, err, 'Ask for a new password reset mail.'),
    );
  });

  return router;
}
