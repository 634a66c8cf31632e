import { generateSync } from 'otplib';
import {
  BROWSER_TEST_TIMEOUT_MS,
  expectAccessible,
  createUser,
  mailedLink,
  screenshot,
  signIn,
  startHarness,
  see,
  type Harness,
} from './harness';

/**
 * Issue [11], the account pages of the web console in real Chromium against the real server process:
 * register → the mailed link → sign in → dashboard; 2FA enrolment and sign-in with a TOTP code (and a recovery
 * code); forgot / reset password through the mailed link; the links without JavaScript; errors in words next to
 * the control; a rejected access token refreshed silently. axe-core on each page: no serious or critical issue.
 */
jest.setTimeout(BROWSER_TEST_TIMEOUT_MS);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** A TOTP code for the step after the current one (one step of drift is accepted; each step works once). */
const totp = (secret: string, stepsAhead = 0) =>
  generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + stepsAhead * 30 });

const PASSWORD = 'correct horse battery 7';

it('register → verify through the mailed link → sign in → the dashboard shows the account', async () => {
  const { page } = h;
  const email = 'ada@example.org';

  await page.goto('/');
  // Signed out: the console sends visitors to sign in, and back afterwards.
  await page.waitForURL(/\/sign-in\?next=%2F$/);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByRole('heading', { name: 'Create an account' }).waitFor();
  // After a navigation inside the app, focus starts at the new page's content.
  await page.waitForFunction(() => document.activeElement?.id === 'main');

  // A password the policy refuses: the error reads beside the Password control, tied to it.
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  const password = page.getByLabel('Password');
  await see(password).toHaveAttribute('aria-invalid', 'true');
  const describedBy = (await password.getAttribute('aria-describedby'))!.split(' ');
  const errorText = await page.locator(`[id="${describedBy[describedBy.length - 1]}"]`).innerText();
  expect(errorText).toMatch(/8|short|characters/i);
  await expectAccessible(page, 'register with an error');
  await screenshot(page, 'register');

  await password.fill(PASSWORD);
  await page.getByLabel('Name (optional)').fill('Ada Lovelace');
  const before = h.mail.messages.length;
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();

  // Signing in before the address is confirmed is refused in words, with a way to get a new link.
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: /confirm your email/i })
    .waitFor();
  await see(page.getByRole('button', { name: 'Send the confirmation link again' })).toBeVisible();

  const link = await mailedLink(h, email, before);
  expect(link.pathname).toBe('/verify-email');
  await page.goto(link.href);
  await page.getByRole('heading', { name: 'Confirm your email address' }).waitFor();
  await expectAccessible(page, 'verify email');
  await screenshot(page, 'verify-email');
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await page.getByRole('heading', { name: 'Email address confirmed' }).waitFor();
  await page.getByRole('link', { name: 'Sign in' }).first().click();

  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await expectAccessible(page, 'sign in');
  await screenshot(page, 'sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the password 1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Invalid email or password' }).waitFor();
  // With the keyboard only: Tab from the email to the password, Enter submits.
  await page.getByLabel('Email').focus();
  await page.keyboard.press('Tab');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');

  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  const account = page.getByRole('definition').filter({ hasText: email });
  await see(account).toBeVisible();
  await see(page.getByText('Member since')).toBeVisible();
  await see(page.getByRole('progressbar', { name: 'Uploads' })).toBeVisible();
  await see(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' })).toBeVisible();
  await expectAccessible(page, 'dashboard');
  await screenshot(page, 'dashboard');
});

it('a rejected access token is refreshed silently and the request sent again', async () => {
  const { page } = h;
  await page.goto('/');
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  // The stored access token stops working (as after a key rotation): the next request meets UNAUTHENTICATED.
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('dermagraph.session')!);
    localStorage.setItem('dermagraph.session', JSON.stringify({ ...s, accessToken: 'not.a.token' }));
  });
  const refreshed = page.waitForRequest((r) => r.postData()?.includes('refreshSession') ?? false);
  await page.reload();
  await refreshed;
  await page.getByRole('definition').filter({ hasText: 'ada@example.org' }).waitFor();
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('dermagraph.session')!).accessToken);
  expect(stored).not.toBe('not.a.token');
});

it('refreshes the session before the access token expires, with no request needing it', async () => {
  const email = 'timer@example.org';
  await createUser(h, { email, password: PASSWORD });
  const page = await h.newPage();
  // The page's clock only: the server's tokens keep real time, so the refreshed session must still work.
  await page.clock.install();
  await signIn(page, email, PASSWORD);
  const before = await page.evaluate(() => JSON.parse(localStorage.getItem('dermagraph.session')!).refreshToken);
  const refreshed = page.waitForRequest((r) => r.postData()?.includes('refreshSession') ?? false);
  await page.clock.fastForward('14:30'); // the access token lasts 15 minutes; the refresh is due a minute before
  await refreshed;
  await page.waitForFunction(
    (old) => JSON.parse(localStorage.getItem('dermagraph.session')!).refreshToken !== old,
    before,
  );
  await page.getByRole('link', { name: 'Security' }).click();
  await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
  await see(page.getByRole('button', { name: 'Turn on two-step verification' })).toBeVisible();
});

it('enrols 2FA (QR code, recovery codes once), then signs in with a TOTP code and with a recovery code', async () => {
  const { page } = h;
  await page.goto('/security');
  await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
  const qr = page.getByRole('img', { name: /QR code/ });
  await see(qr).toBeVisible();
  expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
  const secret = (await page.getByTestId('totp-secret').innerText()).trim();
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
  await expectAccessible(page, '2FA enrolment');
  await screenshot(page, 'two-factor-enrolment');

  await page.getByLabel('Code from the app').fill('000000' === totp(secret) ? '111111' : '000000');
  await page.getByRole('button', { name: 'Confirm and turn on' }).click();
  await see(page.getByLabel('Code from the app')).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('Code from the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Confirm and turn on' }).click();
  const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
  await see(codes).toHaveCount(10);
  const recovery = (await codes.first().innerText()).trim();
  await expectAccessible(page, 'recovery codes');
  await screenshot(page, 'two-factor-recovery-codes');
  await page.getByRole('button', { name: 'I have saved them' }).click();
  await see(page.getByText('Two-step verification is on.')).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email').fill('ada@example.org');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
  await expectAccessible(page, 'second factor');
  await screenshot(page, 'sign-in-two-factor');
  // The enrolment spent this step's code: the next step's is within the accepted drift.
  await page.getByLabel('Authentication code').fill(totp(secret, 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Email').fill('ada@example.org');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
  await page.getByLabel('Recovery code').fill(recovery);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
});

it('forgot password → the mailed link → a new password → sign in with it', async () => {
  const email = 'grace@example.org';
  await createUser(h, { email, password: PASSWORD });
  const page = await h.newPage();
  await page.goto('/sign-in');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
  await expectAccessible(page, 'forgot password');
  await screenshot(page, 'forgot-password');
  const before = h.mail.messages.length;
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await see(page.getByRole('status')).toContainText(email);

  const link = await mailedLink(h, email, before);
  expect(link.pathname).toBe('/reset-password');
  await page.goto(link.href);
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await expectAccessible(page, 'reset password');
  await screenshot(page, 'reset-password');
  // Two different passwords: said next to the second one, nothing sent.
  await page.getByLabel('New password').fill('a brand new passphrase 2');
  await page.getByLabel('The same password again').fill('something else 3');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await see(page.getByLabel('The same password again')).toHaveAttribute('aria-invalid', 'true');
  // The email as the password: the server refuses it, and says so next to "New password".
  await page.getByLabel('New password').fill(email);
  await page.getByLabel('The same password again').fill(email);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await see(page.getByLabel('New password')).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('New password').fill('a brand new passphrase 2');
  await page.getByLabel('The same password again').fill('a brand new passphrase 2');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await page.getByRole('heading', { name: 'Password changed' }).waitFor();

  // The link works once.
  await page.goto(link.href);
  await page.getByLabel('New password').fill('yet another passphrase 4');
  await page.getByLabel('The same password again').fill('yet another passphrase 4');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await page.getByRole('alert').waitFor();
  await see(page.getByRole('link', { name: 'Ask for a new link' })).toBeVisible();

  await signIn(page, email, 'a brand new passphrase 2');
  await see(page.getByRole('definition').filter({ hasText: email })).toBeVisible();
});

it('without JavaScript the mailed links still work: the page sends the browser to the plain form', async () => {
  const email = 'nojs@example.org';
  const before = h.mail.messages.length;
  await h.gql('mutation($input: RegisterInput!) { register(input: $input) { id } }', {
    input: { email, password: PASSWORD },
  });
  const link = await mailedLink(h, email, before);
  const context = await h.browser.newContext({ baseURL: h.baseUrl, javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto(link.href);
    await page.waitForURL(/plain=1/);
    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    await see(page.getByText(`${email} is confirmed`)).toBeVisible();
  } finally {
    await context.close();
  }
});
