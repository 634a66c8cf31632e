// The signed-in session, outside React so the GraphQL client's fetch can read and refresh it. Kept in localStorage
// (the strict CSP allows no inline or foreign script, which is what would read it otherwise) so a reload or a new tab
// stays signed in. Access tokens live 15 minutes: a timer refreshes a minute before expiry, and a request that still
// meets UNAUTHENTICATED refreshes once and is retried (client.ts).

export interface SessionUser {
  id: string;
  email: string;
  name?: string | null;
  role: 'ADMIN' | 'CLINICIAN' | 'RESEARCHER';
  twoFactorEnabled: boolean;
}

export interface Session {
  accessToken: string;
  /** ISO time; refreshed before then. */
  accessTokenExpiresAt: string;
  refreshToken: string;
  user: SessionUser;
}

/** What login / verifyTwoFactor / refreshSession answer (the AuthPayload fields the console reads). */
export interface AuthPayloadLike {
  accessToken?: string | null;
  accessTokenExpiresAt?: string | null;
  refreshToken?: string | null;
  deviceToken?: string | null;
  user?: SessionUser | null;
}

const KEY = 'dermagraph.session';
const DEVICE_KEY = 'dermagraph.deviceTokens';
/** Refresh this long before the access token expires. */
const REFRESH_AHEAD_MS = 60_000;

type Listener = (session: Session | null) => void;
const listeners = new Set<Listener>();
let current: Session | null = load();
let timer: ReturnType<typeof setTimeout> | undefined;
let inflight: Promise<Session | null> | null = null;
/** True after the user signed out themselves: the guard then sends them to sign-in without a `next` page. */
let signedOutOnPurpose = false;

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    const parsed = raw ? (JSON.parse(raw) as Session) : null;
    return parsed && typeof parsed.refreshToken === 'string' && parsed.user ? parsed : null;
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  return current;
}

export function subscribeSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function publish(next: Session | null): void {
  current = next;
  if (next) localStorage.setItem(KEY, JSON.stringify(next));
  else localStorage.removeItem(KEY);
  schedule();
  for (const l of listeners) l(next);
}

/** Stores a complete sign-in (or a refresh); ignores answers without tokens (twoFactorRequired). */
export function acceptAuthPayload(payload: AuthPayloadLike): Session | null {
  const { accessToken, accessTokenExpiresAt, refreshToken, user } = payload;
  if (!accessToken || !accessTokenExpiresAt || !refreshToken) return null;
  const u = user ?? current?.user;
  if (!u) return null;
  if (payload.deviceToken) rememberDeviceToken(u.email, payload.deviceToken);
  signedOutOnPurpose = false;
  const next: Session = { accessToken, accessTokenExpiresAt, refreshToken, user: u };
  publish(next);
  return next;
}

export function updateSessionUser(patch: Partial<SessionUser>): void {
  if (current) publish({ ...current, user: { ...current.user, ...patch } });
}

/** Forgets the session; `onPurpose` when the user signed out (not when the server ended the session). */
export function clearSession(onPurpose = false): void {
  signedOutOnPurpose = onPurpose;
  publish(null);
}

export function wasSignedOutOnPurpose(): boolean {
  return signedOutOnPurpose;
}

function deviceTokens(): Record<string, string> {
  try {
    return JSON.parse(localStorage.getItem(DEVICE_KEY) ?? '{}') as Record<string, string>;
  } catch {
    return {};
  }
}

/** The known-device token of an earlier sign-in to this account (login's deviceToken argument). */
export function deviceTokenFor(email: string): string | undefined {
  return deviceTokens()[email.trim().toLowerCase()];
}

function rememberDeviceToken(email: string, token: string): void {
  localStorage.setItem(DEVICE_KEY, JSON.stringify({ ...deviceTokens(), [email.trim().toLowerCase()]: token }));
}

const REFRESH = `mutation RefreshSession($refreshToken: String!) {
  refreshSession(refreshToken: $refreshToken) {
    accessToken accessTokenExpiresAt refreshToken
    user { id email name role twoFactorEnabled }
  }
}`;

/**
 * Exchanges the refresh token for new tokens: one request at a time (each refresh token works once, so two
 * concurrent refreshes would end the session). Plain fetch, not the urql client, which calls this itself.
 * Resolves to null, and signs out, when the server refuses the token.
 */
export function refreshNow(): Promise<Session | null> {
  if (inflight) return inflight;
  const session = current;
  if (!session) return Promise.resolve(null);
  inflight = (async () => {
    try {
      const res = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: REFRESH, variables: { refreshToken: session.refreshToken } }),
      });
      const body = (await res.json()) as { data?: { refreshSession?: AuthPayloadLike }; errors?: unknown[] };
      const next = body.data?.refreshSession ? acceptAuthPayload(body.data.refreshSession) : null;
      if (!next && current?.refreshToken === session.refreshToken) clearSession();
      return next;
    } catch {
      // Offline or the server restarting: keep the session; the next request or timer tries again.
      return current;
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

/** An access token that is not about to expire, refreshing first when it is. */
export async function freshAccessToken(): Promise<string | undefined> {
  const session = current;
  if (!session) return undefined;
  if (Date.parse(session.accessTokenExpiresAt) - Date.now() > REFRESH_AHEAD_MS / 2) return session.accessToken;
  return (await refreshNow())?.accessToken;
}

function schedule(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  if (!current) return;
  // A minute ahead, or half-way for tokens shorter than two minutes (JWT_ACCESS_TTL_SECONDS may be as low as 60).
  const left = Date.parse(current.accessTokenExpiresAt) - Date.now();
  const wait = Math.max(1_000, left - Math.min(REFRESH_AHEAD_MS, left / 2));
  timer = setTimeout(() => void refreshNow(), wait);
}

// Another tab refreshed or signed out: follow it instead of reusing a refresh token that no longer works.
window.addEventListener('storage', (e) => {
  if (e.key !== KEY) return;
  current = load();
  schedule();
  for (const l of listeners) l(current);
});

schedule();
