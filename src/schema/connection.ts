import { Field, ObjectType } from 'type-graphql';
import { AppError } from '../infra/errors';

/** Relay's PageInfo; one type for every connection in the schema. */
@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor?: string | null;
}

/**
 * Keyset cursors: opaque base64url of [createdAt ISO, id], so pages stay stable while rows are
 * added (no OFFSET). Sorting is newest first.
 */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

export function decodeCursor(cursor: string, field = 'after'): { createdAt: Date; id: string } {
  try {
    if (cursor.length > 200) throw new Error('too long');
    const [iso, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const createdAt = new Date(iso);
    if (Number.isNaN(createdAt.getTime()) || typeof id !== 'string') throw new Error('bad cursor');
    return { createdAt, id };
  } catch {
    throw new AppError('BAD_USER_INPUT', 'Invalid cursor', { field });
  }
}

/** `first` within 1..max (default 20). */
export function pageSize(first: number | null | undefined, max = 100, field = 'first'): number {
  if (first === null || first === undefined) return 20;
  if (!Number.isInteger(first) || first < 1 || first > max) throw new AppError('BAD_USER_INPUT', `first must be between 1 and ${max}`, { field });
  return first;
}

/** Newest-first keyset condition for MikroORM: rows strictly after the cursor. */
export function afterCursor(after: string | null | undefined): Record<string, unknown> {
  if (!after) return {};
  const c = decodeCursor(after);
  return { $or: [{ createdAt: { $lt: c.createdAt } }, { createdAt: c.createdAt, id: { $lt: c.id } }] };
}
