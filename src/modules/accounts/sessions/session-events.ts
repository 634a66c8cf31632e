import type { PubSub } from '../../../infra/messaging/pubsub';
import type { AccountEvents, RoleChangedEvent, SessionsRevokedEvent } from './account-events';

/**
 * Carries one kind of AccountEvents event to every api process (through the pub/sub: Redis when
 * configured), so a subscription socket is dealt with whichever process holds it. Returns a
 * function that stops it.
 */
function bridge<E>(
  pubSub: PubSub,
  topic: string,
  listen: (publish: (e: E) => void) => void,
  deliver: (e: E) => void,
): () => Promise<void> {
  listen((e) => pubSub.publish(topic, e));
  const iterator = pubSub.subscribe(topic)[Symbol.asyncIterator]();
  const loop = (async () => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      deliver(next.value as E);
    }
  })().catch(() => undefined);
  return async () => {
    await iterator.return?.();
    await loop;
  };
}

/** "Sessions ended" (logout, reset, password change, disable, token reuse): their sockets close. */
export function bridgeSessionRevocations(
  events: AccountEvents,
  pubSub: PubSub,
  onRevoked: (e: SessionsRevokedEvent) => void,
): () => Promise<void> {
  return bridge(pubSub, 'AUTH_SESSIONS_REVOKED', (publish) => events.onSessionsRevoked(publish), onRevoked);
}

/** "A user's role changed" (setUserRole): their sockets close, and reconnect with the new role. */
export function bridgeRoleChanges(
  events: AccountEvents,
  pubSub: PubSub,
  onChanged: (e: RoleChangedEvent) => void,
): () => Promise<void> {
  return bridge(pubSub, 'AUTH_ROLE_CHANGED', (publish) => events.onRoleChanged(publish), onChanged);
}
