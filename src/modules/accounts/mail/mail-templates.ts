import type { MailMessage } from './mailer';

/** Absolute link under PUBLIC_URL (keeps a path prefix such as https://host/app/). */
export function publicLink(publicUrl: string, pathname: string, params: Record<string, string>): string {
  const base = publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`;
  const url = new URL(pathname.replace(/^\//, ''), base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function layout(title: string, paragraphs: string[], link: { href: string; label: string }): string {
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="font-family: sans-serif; line-height: 1.5">
<h1 style="font-size: 1.3em">${escapeHtml(title)}</h1>
${body}
<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>
<p style="color: #666; font-size: 0.9em">If the button does not work, copy this address into your browser:<br>${escapeHtml(link.href)}</p>
</body></html>`;
}

/** A message whose paragraphs lead to one link: the text part ends with the link, the HTML part shows it as a link too. */
function linkMail(to: string, subject: string, lines: string[], link: { href: string; label: string }): MailMessage {
  return { to, subject, text: `${lines.join('\n\n')}\n\n${link.href}\n`, html: layout(subject, lines, link) };
}

function greeting(name?: string | null): string {
  return name ? `Hello ${name},` : 'Hello,';
}

export function verificationEmail(input: {
  to: string;
  name?: string | null;
  publicUrl: string;
  token: string;
  ttlHours: number;
}): MailMessage {
  const link = publicLink(input.publicUrl, '/verify-email', { token: input.token });
  const lines = [
    greeting(input.name),
    'Please confirm your email address for your Dermagraph account by opening the link below.',
    `The link works once and expires in ${input.ttlHours} hours. If you did not sign up, ignore this message.`,
  ];
  return linkMail(input.to, 'Confirm your email address', lines, { href: link, label: 'Confirm my email address' });
}

export function passwordResetEmail(input: {
  to: string;
  name?: string | null;
  publicUrl: string;
  token: string;
  ttlMinutes: number;
}): MailMessage {
  const link = publicLink(input.publicUrl, '/reset-password', { token: input.token });
  const lines = [
    greeting(input.name),
    'Someone asked to reset the password of your Dermagraph account. Open the link below to choose a new one.',
    `The link works once and expires in ${input.ttlMinutes} minutes. Resetting signs out every session; two-factor authentication stays on.`,
    'If you did not ask for this, ignore this message: your password stays as it is.',
  ];
  return linkMail(input.to, 'Reset your password', lines, { href: link, label: 'Choose a new password' });
}

/** Sent to an account's owner when someone registers with their address (register answers as for a new one). */
export function accountExistsEmail(input: { to: string; name?: string | null; publicUrl: string }): MailMessage {
  const link = publicLink(input.publicUrl, '/', {});
  const lines = [
    greeting(input.name),
    'Someone, perhaps you, tried to create a Dermagraph account with this email address. You already have an account, so nothing was created.',
    'To get in, sign in as usual; if you forgot your password, ask for a reset link on the sign-in page.',
    'If it was not you, ignore this message: your account is unchanged.',
  ];
  return linkMail(input.to, 'Someone tried to register with your address', lines, {
    href: link,
    label: 'Open Dermagraph',
  });
}

/** inviteUser: the invitee opens the link (the reset page) and chooses a password, which also confirms the address. */
export function invitationEmail(input: {
  to: string;
  name?: string | null;
  publicUrl: string;
  token: string;
  ttlHours: number;
}): MailMessage {
  const link = publicLink(input.publicUrl, '/reset-password', { token: input.token });
  const lines = [
    greeting(input.name),
    'An administrator created a Dermagraph account for you with this email address. Open the link below to choose your password.',
    `The link works once and expires in ${input.ttlHours} hours; after that, ask your administrator for a new one.`,
    'If you did not expect this, ignore this message: nobody can sign in to the account until a password is chosen.',
  ];
  return linkMail(input.to, 'You are invited to Dermagraph', lines, { href: link, label: 'Choose my password' });
}

/** sendUserPasswordReset: like passwordResetEmail, but says an administrator asked for it. */
export function adminPasswordResetEmail(input: {
  to: string;
  name?: string | null;
  publicUrl: string;
  token: string;
  ttlMinutes: number;
  signedOut: boolean;
}): MailMessage {
  const link = publicLink(input.publicUrl, '/reset-password', { token: input.token });
  const lines = [
    greeting(input.name),
    'An administrator asked for the password of your Dermagraph account to be reset. Open the link below to choose a new one.',
    `The link works once and expires in ${input.ttlMinutes} minutes. Two-factor authentication stays on.`,
    input.signedOut
      ? 'Every session of your account has been signed out; sign in again with the new password.'
      : 'Until you use the link, your current password keeps working.',
  ];
  return linkMail(input.to, 'Reset your password', lines, { href: link, label: 'Choose a new password' });
}
