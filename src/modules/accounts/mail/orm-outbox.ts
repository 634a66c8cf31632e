import type { EntityManager } from '@mikro-orm/postgresql';
import { OutboxMessage } from '../../../entities';
import type { Outbox, OutboxEntry } from './mailer';

/** The embedded mailer's outbox as the `outbox` table. */
export class OrmOutbox implements Outbox {
  constructor(private readonly forkEm: () => EntityManager) {}

  async add(entry: OutboxEntry): Promise<void> {
    const row = new OutboxMessage();
    row.id = entry.id;
    row.createdAt = entry.createdAt;
    row.sender = entry.from;
    row.recipient = entry.to;
    row.subject = entry.subject;
    row.text = entry.text;
    row.html = entry.html;
    await this.forkEm().persistAndFlush(row);
  }
}
