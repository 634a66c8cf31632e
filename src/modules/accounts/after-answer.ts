import type { EntityManager } from '@mikro-orm/postgresql';
import type { BackgroundTasks } from './background';
import type { Mailer, MailMessage } from './mail/mailer';
import { assertOutsideTransaction } from './transaction-guard';

/**
 * Work an answer must not wait for, or show in its timing: account look-ups of answers that must
 * not tell whether an account exists (on an EntityManager of their own), and mail (SMTP). Their
 * failures are only logged (BackgroundTasks).
 */
export class AfterAnswer {
  constructor(
    private readonly tasks: BackgroundTasks,
    private readonly forkEm: () => EntityManager,
    private readonly mailer: Mailer,
  ) {}

  /** Runs `work` after the answer, with a fresh EntityManager (refused inside a transaction: see transaction-guard). */
  run(label: string, work: (em: EntityManager) => Promise<unknown>): void {
    this.tasks.run(label, () => {
      assertOutsideTransaction(label);
      return work(this.forkEm());
    });
  }

  /** Sends in the background: the answer does not wait for SMTP. */
  mail(message: MailMessage): void {
    this.tasks.run(`mail: ${message.subject}`, () => this.mailer.send(message));
  }

  /** Resolves when the work queued so far (and what it queued) is done (tests, shutdown). */
  drain(): Promise<void> {
    return this.tasks.drain();
  }
}
