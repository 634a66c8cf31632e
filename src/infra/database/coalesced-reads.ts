import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { executeBatch, type Rows, type Statement } from './sql';
import { sharedReadsOf } from './shared-reads';

/**
 * Reads issued in the same tick on the same EntityManager travel together, as one round trip (executeBatch),
 * the way DataLoader batches loads: a request's independent checks (the access check, the classifier's
 * ensemble, the early quota check), started together, cost one round trip however many there are, and no
 * caller needs to know of the others. Each statement still takes its own snapshot.
 *
 * In embedded mode the batches of concurrent requests share round trips too (shared-reads.ts).
 *
 * For reads only: a batch is one implicit transaction, so a statement that fails would fail its neighbours.
 * When a batch fails outside a transaction its statements are run again one by one, so each caller gets its
 * own answer or error; inside a transaction (aborted by then) every caller gets the batch's error.
 */
export function coalescedRead(em: EntityManager, statement: Statement): Promise<Rows> {
  let loader = loaders.get(em);
  if (!loader) {
    loader = new DataLoader((batch: readonly Statement[]) => runBatch(em, batch), { cache: false, maxBatchSize: 16 });
    loaders.set(em, loader);
  }
  return loader.load(statement);
}

const loaders = new WeakMap<EntityManager, DataLoader<Statement, Rows>>();

async function runBatch(em: EntityManager, batch: readonly Statement[]): Promise<Array<Rows | Error>> {
  const shared = em.isInTransaction() ? undefined : sharedReadsOf(em);
  if (shared) return shared.run(batch);
  try {
    return await executeBatch(em, batch);
  } catch (err) {
    if (batch.length === 1 || em.isInTransaction()) return batch.map(() => err as Error);
    return Promise.all(
      batch.map((s) =>
        executeBatch(em, [s]).then(
          ([rows]) => rows,
          (e: Error) => e,
        ),
      ),
    );
  }
}

/**
 * Checks started together (so that their reads coalesce) and answered as if they had run one after the other:
 * once all have settled, the first error in the order given is thrown; otherwise their values, as Promise.all.
 */
export async function inOrder<T extends readonly unknown[] | []>(
  checks: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(checks);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
