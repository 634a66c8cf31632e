import { TransactionContext } from '@mikro-orm/core';

/**
 * Work that takes a connection of its own (a forked EntityManager, a background task) must not
 * start inside a transaction: the embedded database pools one connection, which the transaction
 * holds, so the new work would wait for it until the pool gives up (60 s), holding every request.
 * Throwing here turns that stall into an immediate, obvious programming error.
 */
export function assertOutsideTransaction(what: string): void {
  if (TransactionContext.currentTransactionContext()) {
    throw new Error(`${what} needs a database connection of its own and must not start inside a transaction`);
  }
}
