import { linkIn, startSmtpCapture } from '../../../../test/auth/smtp-capture';
import { createMailer, MemoryOutbox, OutboxMailer, SmtpMailer } from './mailer';
import { passwordResetEmail, publicLink, verificationEmail } from './mail-templates';
import { generateToken } from '../tokens/random-tokens';

describe('mail templates', () => {
  it('build links under PUBLIC_URL, keeping a path prefix', () => {
    expect(publicLink('https://derm.example.org', '/verify-email', { token: 'abc' })).toBe(
      'https://derm.example.org/verify-email?token=abc',
    );
    expect(publicLink('https://derm.example.org/app/', '/reset-password', { token: 'a_b-c' })).toBe(
      'https://derm.example.org/app/reset-password?token=a_b-c',
    );
  });

  it('verification and reset mails have text and HTML with the link, and escape the name', () => {
    const token = generateToken();
    const v = verificationEmail({
      to: 'j@x.org',
      name: '<b>Jane</b>',
      publicUrl: 'http://localhost:4000',
      token,
      ttlHours: 24,
    });
    expect(v.subject).toBe('Confirm your email address');
    expect(v.text).toContain(`http://localhost:4000/verify-email?token=${token}`);
    expect(v.text).toContain('24 hours');
    expect(v.html).toContain(`href="http://localhost:4000/verify-email?token=${token}"`);
    expect(v.html).toContain('&lt;b&gt;Jane&lt;/b&gt;');
    expect(v.html).not.toContain('<b>Jane</b>');
    const r = passwordResetEmail({ to: 'j@x.org', publicUrl: 'http://localhost:4000', token, ttlMinutes: 30 });
    expect(r.text).toContain(`http://localhost:4000/reset-password?token=${token}`);
    expect(r.text).toContain('30 minutes');
  });
});

describe('SMTP mailer against a real SMTP server', () => {
  it('delivers text + HTML with authentication from SMTP_URL; the link survives transfer encoding', async () => {
    const smtp = await startSmtpCapture({ user: 'mailer', pass: 's3cret pass' });
    const mailer = createMailer({
      smtpUrl: smtp.url,
      from: 'Dermagraph <no-reply@dermagraph.test>',
      outbox: new MemoryOutbox(),
      logger: { info: () => undefined },
    });
    expect(mailer).toBeInstanceOf(SmtpMailer);
    try {
      const token = generateToken();
      await mailer.send(
        verificationEmail({
          to: 'jane@example.org',
          name: 'Jane Ölberg',
          publicUrl: 'http://localhost:4000',
          token,
          ttlHours: 24,
        }),
      );
      const mail = await smtp.waitFor('jane@example.org');
      expect(mail.envelopeFrom).toBe('no-reply@dermagraph.test');
      expect(mail.headers.subject).toBe('Confirm your email address');
      expect(mail.headers.to).toBe('jane@example.org');
      expect(mail.headers['content-type']).toMatch(/^multipart\/alternative/);
      expect(mail.text).toContain('Hello Jane Ölberg,');
      expect(linkIn(mail.text).searchParams.get('token')).toBe(token);
      expect(mail.html).toContain(`verify-email?token=${token}`);
    } finally {
      await mailer.close();
      await smtp.close();
    }
  });

  it('rejects when the server refuses the credentials', async () => {
    const smtp = await startSmtpCapture({ user: 'mailer', pass: 'right' });
    const mailer = new SmtpMailer(smtp.url.replace('right', 'wrong'), 'no-reply@dermagraph.test');
    try {
      await expect(mailer.send({ to: 'a@b.org', subject: 's', text: 't', html: '<p>t</p>' })).rejects.toThrow(
        /Invalid/,
      );
      expect(smtp.messages).toHaveLength(0);
    } finally {
      await mailer.close();
      await smtp.close();
    }
  });
});

describe('outbox mailer (SMTP_URL unset)', () => {
  it('stores the whole message and logs its id, address and subject but not the body', async () => {
    const outbox = new MemoryOutbox();
    const lines: Array<{ obj: object; msg?: string }> = [];
    const mailer = createMailer({
      from: 'no-reply@dermagraph.local',
      outbox,
      logger: { info: (obj, msg) => lines.push({ obj, msg }) },
    });
    expect(mailer).toBeInstanceOf(OutboxMailer);
    const token = generateToken();
    await mailer.send(
      passwordResetEmail({ to: 'Jane@Example.org', publicUrl: 'http://localhost:4000', token, ttlMinutes: 30 }),
    );
    const entry = outbox.latestTo('jane@example.org')!;
    expect(entry).toMatchObject({ from: 'no-reply@dermagraph.local', subject: 'Reset your password' });
    expect(linkIn(entry.text).searchParams.get('token')).toBe(token);
    expect(lines).toHaveLength(1);
    expect(lines[0].obj).toEqual({
      mail: { outboxId: entry.id, to: 'Jane@Example.org', subject: 'Reset your password' },
    });
    expect(JSON.stringify(lines)).not.toContain(token);
  });

  it('logs the text body only when logBodies is on (local development)', async () => {
    const lines: object[] = [];
    const mailer = new OutboxMailer(new MemoryOutbox(), 'x@y.z', { info: (o) => lines.push(o) }, { logBodies: true });
    await mailer.send({ to: 'a@b.org', subject: 's', text: 'the body', html: '' });
    expect(JSON.stringify(lines)).toContain('the body');
  });
});
