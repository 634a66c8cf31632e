import { Entity, Enum, Index, ManyToOne, OneToOne, Property, Unique } from '@mikro-orm/core';
import { BaseEntity } from './base';
import { User } from './user';

/**
 * One sign-in: the family of refresh tokens that rotate from it. Access tokens carry its id (`sid`),
 * so revoking the session ends the access tokens too at their next request.
 */
@Entity({ tableName: 'auth_sessions' })
@Index({ properties: ['user', 'revokedAt'] })
export class AuthSession extends BaseEntity {
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  revokedAt?: Date | null;

  /** LOGOUT, LOGOUT_ALL, PASSWORD_RESET, PASSWORD_CHANGED, USER_DISABLED, REFRESH_TOKEN_REUSED. */
  @Property({ type: 'text', nullable: true })
  revokedReason?: string | null;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  lastUsedAt?: Date | null;

  @Property({ type: 'text', nullable: true })
  ip?: string | null;

  @Property({ type: 'text', nullable: true })
  userAgent?: string | null;
}

/** An opaque refresh token, stored as its SHA-256. Rotated on every use; reuse of a rotated one revokes its session. */
@Entity({ tableName: 'refresh_tokens' })
export class RefreshToken extends BaseEntity {
  @ManyToOne(() => AuthSession, { deleteRule: 'cascade' })
  session!: AuthSession;

  @Property({ type: 'text' })
  @Unique({ name: 'refresh_tokens_token_hash_unique' })
  tokenHash!: string;

  @Property({ type: 'Date', columnType: 'timestamptz' })
  expiresAt!: Date;

  /** Set when this token was exchanged for the next one. */
  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  rotatedAt?: Date | null;
}

export enum EmailTokenPurpose {
  VERIFY_EMAIL = 'VERIFY_EMAIL',
  RESET_PASSWORD = 'RESET_PASSWORD',
}

/** A link token sent by mail (verification, password reset): hashed, single use, expiring. */
@Entity({ tableName: 'email_tokens' })
@Index({ properties: ['user', 'purpose'] })
export class EmailToken extends BaseEntity {
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;

  @Enum({ items: () => EmailTokenPurpose, nativeEnumName: 'email_token_purpose' })
  purpose!: EmailTokenPurpose;

  @Property({ type: 'text' })
  @Unique({ name: 'email_tokens_token_hash_unique' })
  tokenHash!: string;

  @Property({ type: 'Date', columnType: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  usedAt?: Date | null;
}

/** TOTP state of one user. enabledAt null: enrolment begun but not confirmed. */
@Entity({ tableName: 'two_factor' })
export class TwoFactor extends BaseEntity {
  @OneToOne(() => User, { owner: true, deleteRule: 'cascade', unique: 'two_factor_user_unique' })
  user!: User;

  /** The base32 secret, AES-256-GCM encrypted (SecretBox format), bound to the user id. */
  @Property({ type: 'text', hidden: true })
  secretEncrypted!: string;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  enabledAt?: Date | null;

  /** The RFC 6238 time step of the last accepted code: that code and older ones are refused. */
  @Property({ type: 'bigint', nullable: true, columnType: 'bigint' })
  lastUsedStep?: string | null;
}

/** One of the 10 recovery codes, as SHA-256; usedAt set when spent. */
@Entity({ tableName: 'recovery_codes' })
@Unique({ name: 'recovery_codes_user_hash_unique', properties: ['user', 'codeHash'] })
export class RecoveryCode extends BaseEntity {
  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'text', hidden: true })
  codeHash!: string;

  @Property({ type: 'Date', columnType: 'timestamptz', nullable: true })
  usedAt?: Date | null;
}

/** Security events: who, what, when, from where. Never a password, token or code. */
@Entity({ tableName: 'audit_log' })
@Index({ properties: ['userId', 'createdAt'] })
@Index({ properties: ['action', 'createdAt'] })
export class AuditLog extends BaseEntity {
  /** The account concerned (kept as a plain id so the record outlives the account). */
  @Property({ type: 'uuid', nullable: true })
  userId?: string | null;

  /** Who did it when it is not the account itself (an admin). */
  @Property({ type: 'uuid', nullable: true })
  actorId?: string | null;

  @Property({ type: 'text' })
  action!: string;

  @Property({ type: 'boolean' })
  success!: boolean;

  @Property({ type: 'text', nullable: true })
  ip?: string | null;

  @Property({ type: 'text', nullable: true })
  userAgent?: string | null;

  @Property({ type: 'json', nullable: true })
  details?: Record<string, unknown> | null;

  /** The request that wrote the row (x-request-id; a job's rows: the request that queued it); null outside one. */
  @Property({ type: 'text', nullable: true })
  requestId?: string | null;
}

/** Mail kept by the embedded mailer when SMTP_URL is unset. */
@Entity({ tableName: 'outbox' })
export class OutboxMessage extends BaseEntity {
  @Property({ type: 'text' })
  sender!: string;

  @Property({ type: 'text' })
  @Index()
  recipient!: string;

  @Property({ type: 'text' })
  subject!: string;

  @Property({ type: 'text' })
  text!: string;

  @Property({ type: 'text' })
  html!: string;
}

export const authEntities = [AuthSession, RefreshToken, EmailToken, TwoFactor, RecoveryCode, AuditLog, OutboxMessage];
