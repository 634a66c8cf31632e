import { randomUUID } from 'node:crypto';
import type { Transporter } from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  /** Delivers (or stores) one message; rejects when it could not. */
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

export interface OutboxEntry extends MailMessage {
  id: string;
  from: string;
  createdAt: Date;
}

/** Where the embedded mailer puts messages: the Outbox table in the server, memory in unit tests. */
export interface Outbox {
  add(entry: OutboxEntry): Promise<void>;
}

export class MemoryOutbox implements Outbox {
  readonly entries: OutboxEntry[] = [];

  async add(entry: OutboxEntry): Promise<void> {
    this.entries.push(entry);
  }

  /** The newest message to an address (tests and the CLI read links from it). */
  latestTo(address: string): OutboxEntry | undefined {
    return [...this.entries].reverse().find((e) => e.to.toLowerCase() === address.toLowerCase());
  }
}

/** The logger surface the mailer needs (pino's). */
export interface MailLogger {
  info(obj: object, msg?: string): void;
}

/** SMTP_URL set: nodemailer over SMTP (smtp:// with STARTTLS when offered, smtps:// for TLS). */
export class SmtpMailer implements Mailer {
  // Made with the first message: nodemailer is loaded then, not with the server.
  private transport?: Promise<Transporter>;

  constructor(
    private readonly smtpUrl: string,
    private readonly from: string,
  ) {}

  async send(message: MailMessage): Promise<void> {
    this.transport ??= import('nodemailer').then((m) => m.default.createTransport(this.smtpUrl));
    await (await this.transport).sendMail({ from: this.from, ...message });
  }

  async close(): Promise<void> {
    (await this.transport)?.close();
  }
}

/**
 * SMTP_URL unset (embedded mode): each message goes to the outbox and a log line, so someone running
 * `npm start` can finish sign-up. The log line names the message but not its body, because bodies
 * carry tokens; `logBodies` (meant for local development only) prints the text part too.
 */
export class OutboxMailer implements Mailer {
  constructor(
    private readonly outbox: Outbox,
    private readonly from: string,
    private readonly logger: MailLogger,
    private readonly options: { logBodies?: boolean } = {},
  ) {}

  async send(message: MailMessage): Promise<void> {
    const entry: OutboxEntry = { id: randomUUID(), from: this.from, createdAt: new Date(), ...message };
    await this.outbox.add(entry);
    this.logger.info(
      {
        mail: {
          outboxId: entry.id,
          to: entry.to,
          subject: entry.subject,
          ...(this.options.logBodies ? { text: entry.text } : {}),
        },
      },
      'mail stored in the outbox (SMTP_URL is not set)',
    );
  }

  async close(): Promise<void> {}
}

export function createMailer(options: {
  smtpUrl?: string;
  from: string;
  outbox: Outbox;
  logger: MailLogger;
  logBodies?: boolean;
}): Mailer {
  return options.smtpUrl
    ? new SmtpMailer(options.smtpUrl, options.from)
    : new OutboxMailer(options.outbox, options.from, options.logger, { logBodies: options.logBodies });
}
