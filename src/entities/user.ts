import { Entity, Enum, Property } from '@mikro-orm/core';
import { BaseEntity } from './base';

export enum Role {
  ADMIN = 'ADMIN',
  CLINICIAN = 'CLINICIAN',
  RESEARCHER = 'RESEARCHER',
}

export enum Plan {
  FREE = 'FREE',
  PRO = 'PRO',
}

/** An account. Auth state (2FA, tokens, audit) lives in its own tables, keyed by user id. */
@Entity({ tableName: 'users' })
export class User extends BaseEntity {
  /** Normalised (trimmed, lower-cased) address; unique. */
  @Property({ type: 'text', unique: 'users_email_unique' })
  email!: string;

  @Property({ type: 'text', nullable: true })
  name?: string | null;

  @Enum({ items: () => Role, nativeEnumName: 'user_role' })
  role: Role = Role.CLINICIAN;

  @Enum({ items: () => Plan, nativeEnumName: 'user_plan' })
  plan: Plan = Plan.FREE;

  /** argon2id PHC string. */
  @Property({ type: 'text', hidden: true })
  passwordHash!: string;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  emailVerifiedAt?: Date | null;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  disabledAt?: Date | null;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  lastLoginAt?: Date | null;

  /** Set by inviteUser; the invitation is pending while emailVerifiedAt is null (the link sets both password and that). */
  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  invitedAt?: Date | null;

  /** Set by deleteUser on an account kept, anonymised, because records point at it; it never signs in again. */
  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  deletedAt?: Date | null;
}
