import type { EntityManager } from '@mikro-orm/postgresql';
import { LockMode } from '@mikro-orm/core';
import {
  AuthSession,
  EmailToken,
  Patient,
  PatientShare,
  RecoveryCode,
  Role,
  TwoFactor,
  User,
  type Plan,
} from '../../../entities';
import { badInput, conflict, notFound } from '../../../infra/errors';
import { isUuid } from '../../../infra/database/sql';
import type { SessionRevocation } from '../sessions/session-revocation';
import type { UserAdmin } from './user-admin';

/** ACCOUNT_DELETION_PATIENTS: where the patients of a deleted account go. */
export type PatientsOnDeletion = 'transfer' | 'archive';

/** DELETED: the row is gone (nothing pointed at it). ANONYMISED: kept without personal data, for the records that do. */
export type DeletionOutcome = 'DELETED' | 'ANONYMISED';

export interface DeletionResult {
  userId: string;
  outcome: DeletionOutcome;
  patientsTransferred: number;
  patientsArchived: number;
  successorId: string | null;
  /** What the account was (no email or name: the audit row must not keep what the deletion erased). */
  before: { role: Role; plan: Plan; patientsOwned: number; invitationPending: boolean };
}

export interface AccountDeletionDeps {
  admin: UserAdmin;
  revocation: SessionRevocation;
  patients: PatientsOnDeletion;
  now: () => Date;
}

/** Who may own patients (the patients module's PATIENT_DATA_ROLES, which accounts may not import). */
const PATIENT_OWNER_ROLES: readonly Role[] = [Role.ADMIN, Role.CLINICIAN];

/**
 * Tables whose rows point at an account and are records of care or of work done (not the
 * account's own state, which goes with it). A row in any of them keeps the account as an
 * anonymised row, so no result, image or timeline entry is lost or loses its author by cascade.
 */
const RECORDS_SQL = `select exists (select 1 from patients where owner_id = ?)
  or exists (select 1 from images where uploaded_by_id = ?)
  or exists (select 1 from inference_jobs where owner_id = ?)
  or exists (select 1 from predictions where owner_id = ?)
  or exists (select 1 from segmentations where owner_id = ?)
  or exists (select 1 from reports where owner_id = ?)
  or exists (select 1 from lesions where created_by_id = ?)
  or exists (select 1 from patient_events where actor_id = ?)
  or exists (select 1 from patient_shares where shared_by_id = ?) as has`;

/**
 * deleteUser: the account ends for good. Its patients go to a successor or are archived
 * (ACCOUNT_DELETION_PATIENTS), each with a timeline event; then the row is deleted when nothing
 * else points at it, or else anonymised: no email, name, password, sessions, links, 2FA or
 * shares, disabled, `deletedAt` set. One transaction, the account row locked first.
 */
export class AccountDeletion {
  constructor(private readonly deps: AccountDeletionDeps) {}

  async delete(
    em: EntityManager,
    actorId: string,
    userId: string,
    successorId: string | null,
  ): Promise<DeletionResult> {
    const user = await this.deps.admin.find(em, userId);
    if (user.id === actorId)
      throw badInput('userId', 'You cannot delete your own account; ask another admin', { reason: 'SELF' });
    await this.deps.admin.assertNotLastAdmin(em, user);
    const successor = await this.successor(em, user, successorId);
    const result = await em.transactional(async (tem) => {
      // Read again under the lock (not from the identity map): a deletion that won the race shows here.
      const locked = await tem.findOne(User, { id: user.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!locked || locked.deletedAt) throw notFound('User');
      return this.deleteLocked(tem, actorId, locked, successor);
    });
    this.deps.revocation.announce(user.id, 'USER_DELETED');
    return result;
  }

  /** The successor named (transfer mode), checked; required when the account owns patients. */
  private async successor(em: EntityManager, user: User, successorId: string | null): Promise<User | null> {
    const owned = await em.count(Patient, { owner: user.id });
    if (this.deps.patients === 'archive') {
      if (successorId != null)
        throw badInput('successorId', 'ACCOUNT_DELETION_PATIENTS is archive: patients are archived, not transferred', {
          reason: 'ARCHIVE_MODE',
        });
      return null;
    }
    if (successorId == null) {
      if (owned === 0) return null;
      throw badInput('successorId', `The account owns ${owned} patient(s): name who takes them over`, {
        reason: 'SUCCESSOR_REQUIRED',
      });
    }
    const successor = isUuid(successorId) ? await em.findOne(User, { id: successorId }) : null;
    if (!successor || successor.deletedAt) throw notFound('User', { field: 'successorId' });
    if (successor.id === user.id) throw badInput('successorId', 'The successor must be another account');
    if (successor.disabledAt || !PATIENT_OWNER_ROLES.includes(successor.role))
      throw badInput('successorId', 'The successor must be an enabled clinician or admin', {
        reason: 'SUCCESSOR_INELIGIBLE',
      });
    return successor;
  }

  private async deleteLocked(
    tem: EntityManager,
    actorId: string,
    user: User,
    successor: User | null,
  ): Promise<DeletionResult> {
    const before = {
      role: user.role,
      plan: user.plan,
      patientsOwned: await tem.count(Patient, { owner: user.id }),
      invitationPending: !!user.invitedAt && !user.emailVerifiedAt,
    };
    const now = this.deps.now();
    const transferred = successor ? await transferPatients(tem, actorId, user.id, successor.id, now) : 0;
    const archived = successor ? 0 : await archivePatients(tem, actorId, user.id, now);
    await this.deps.revocation.mark(tem, user.id, 'USER_DELETED');
    const [{ has }] = (await tem.execute(RECORDS_SQL, Array(9).fill(user.id))) as [{ has: boolean }];
    let outcome: DeletionOutcome;
    if (has) {
      await anonymise(tem, user, now);
      outcome = 'ANONYMISED';
    } else {
      // Sessions, tokens, 2FA, usage and shares held go with the row (on delete cascade); audit rows keep the id.
      await tem.nativeDelete(User, { id: user.id });
      outcome = 'DELETED';
    }
    return {
      userId: user.id,
      outcome,
      patientsTransferred: transferred,
      patientsArchived: archived,
      successorId: successor?.id ?? null,
      before,
    };
  }
}

/**
 * The account's patients become the successor's, each with a PATIENT_CHANGED ("owner") event. An
 * external id (MRN) the successor already uses is a CONFLICT naming those patients: nothing moves.
 * A share the successor held on a moved patient is dropped (owners need none).
 */
async function transferPatients(
  tem: EntityManager,
  actorId: string,
  fromId: string,
  toId: string,
  now: Date,
): Promise<number> {
  const clashes = (await tem.execute(
    `select p.id from patients p where p.owner_id = ? and exists
       (select 1 from patients q where q.owner_id = ? and q.external_id = p.external_id) order by p.id limit 20`,
    [fromId, toId],
  )) as Array<{ id: string }>;
  if (clashes.length)
    throw conflict('The successor already has patients with the same external ids', {
      field: 'successorId',
      reason: 'EXTERNAL_ID_TAKEN',
      patientIds: clashes.map((c) => c.id),
    });
  const moved = (await tem.execute(`update patients set owner_id = ?, updated_at = ? where owner_id = ? returning id`, [
    toId,
    now,
    fromId,
  ])) as Array<{ id: string }>;
  if (!moved.length) return 0;
  const ids = moved.map((m) => m.id);
  await tem.nativeDelete(PatientShare, { user: toId, patient: { $in: ids } });
  await insertEvents(tem, ids, actorId, 'owner', now);
  return ids.length;
}

/** The account's patients not archived yet are archived (PATIENT_CHANGED "archived"); they stay its own. */
async function archivePatients(tem: EntityManager, actorId: string, ownerId: string, now: Date): Promise<number> {
  const rows = (await tem.execute(
    `update patients set archived_at = ?, updated_at = ? where owner_id = ? and archived_at is null returning id`,
    [now, now, ownerId],
  )) as Array<{ id: string }>;
  await insertEvents(
    tem,
    rows.map((r) => r.id),
    actorId,
    'archived',
    now,
  );
  return rows.length;
}

/** One timeline event per patient, in one statement. */
async function insertEvents(tem: EntityManager, ids: string[], actorId: string, field: string, now: Date) {
  if (!ids.length) return;
  await tem.execute(
    `insert into patient_events (id, patient_id, actor_id, kind, changed_fields, created_at)
     select gen_random_uuid(), p, ?, 'PATIENT_CHANGED', ?::jsonb, ? from unnest(?::uuid[]) as p`,
    [actorId, JSON.stringify([field]), now, `{${ids.join(',')}}`],
  );
}

/** The row stays for what points at it; everything that identified or let someone act as the person goes. */
async function anonymise(tem: EntityManager, user: User, now: Date): Promise<void> {
  await tem.nativeDelete(AuthSession, { user: user.id });
  await tem.nativeDelete(EmailToken, { user: user.id });
  await tem.nativeDelete(RecoveryCode, { user: user.id });
  await tem.nativeDelete(TwoFactor, { user: user.id });
  await tem.nativeDelete(PatientShare, { user: user.id });
  await tem.nativeUpdate(
    User,
    { id: user.id },
    {
      // Unique, and in the reserved .invalid domain (RFC 2606): no mail can reach it, no one can register it.
      email: `deleted-${user.id}@deleted.invalid`,
      name: null,
      // Not a PHC string: verifying any password against it is false.
      passwordHash: '!deleted',
      emailVerifiedAt: null,
      lastLoginAt: null,
      invitedAt: null,
      disabledAt: user.disabledAt ?? now,
      deletedAt: now,
    },
  );
}
