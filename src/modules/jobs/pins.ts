import type { Database } from '../../infra/database/database';
import type { PinSource } from '../../models-registry';

/**
 * The registry's PinSource from the job rows themselves: a version is pinned while a job that
 * named it is QUEUED or RUNNING, in any process. Derived, not booked: a crashed process leaves no
 * stale pin behind, and a job's pins end with the statement that finishes it.
 */
export function pinnedJobs(db: Database): PinSource {
  return async (name, version) => {
    const rows = (await db.orm.em
      .fork()
      .getConnection()
      .execute(
        `select count(*)::int as n from inference_jobs where status in ('QUEUED', 'RUNNING') and request->'members' @> ?::jsonb`,
        [JSON.stringify([{ model: name, version, pinned: true }])],
      )) as Array<{ n: number }>;
    return rows[0]?.n ?? 0;
  };
}
