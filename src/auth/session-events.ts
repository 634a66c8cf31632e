import type { PubSub } from '../adapters/pubsub';
import type { AuthService, SessionsRevokedEvent } from './auth-service';

const TOPIC = 'AUTH_SESSIONS_REVOKED';

/**
 * Carries "sessions ended" to every api process (through the pub/sub: Redis when configured), so
 * a subscription socket is closed whichever process holds it. Returns a function that stops it.
 */
export function bridgeSessionRevocations(auth: AuthService, pubSub: PubSub, onRevoked: (e: SessionsRevokedEvent) => void): () => Promise<void> {
  auth.onSessionsRevoked((e) => pubSub.publish(TOPIC, e));
  const iterator = pubSub.subscribe(TOPIC)[Symbol.asyncIterator]();
  const loop = (async () => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      onRevoked(next.value as SessionsRevokedEvent);
    }
  })().catch(() => undefined);
  return async () => {
    await iterator.return?.();
    await loop;
  };
}
