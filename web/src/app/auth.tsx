// Session context: who is signed in, the urql client made for them, and the guards that keep pages for
// signed-in users (and for some roles) away from others.
import { createContext, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { Provider } from 'urql';
import { createAppClient } from './client';
import {
  clearSession,
  getSession,
  subscribeSession,
  wasSignedOutOnPurpose,
  type Session,
  type SessionUser,
} from './session';
import type { Role } from './nav';

interface AuthContextValue {
  session: Session | null;
  user: SessionUser | null;
  signOut(): Promise<void>;
}

const AuthContext = createContext<AuthContextValue | null>(null);

const LOGOUT = `mutation Logout($refreshToken: String!) { logout(refreshToken: $refreshToken) }`;

/** Ends the session on the server (best effort) and forgets it here. */
async function signOut(): Promise<void> {
  const session = getSession();
  clearSession(true);
  if (!session) return;
  await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: LOGOUT, variables: { refreshToken: session.refreshToken } }),
  }).catch(() => undefined);
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const session = useSyncExternalStore(subscribeSession, getSession);
  const userId = session?.user.id ?? null;
  // A new client (and cache, and socket) whenever the user changes: nothing of one user's data reaches the next.
  const app = useMemo(() => createAppClient(), [userId]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => () => app.dispose(), [app]);
  const value = useMemo<AuthContextValue>(() => ({ session, user: session?.user ?? null, signOut }), [session]);
  return (
    <AuthContext.Provider value={value}>
      <Provider value={app.client}>{children}</Provider>
    </AuthContext.Provider>
  );
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}

/** Renders its children for a signed-in user (with one of `roles`, when given); otherwise sign-in or a refusal. */
export function RequireAuth({ roles, children }: { roles?: readonly Role[]; children: ReactNode }) {
  const { user } = useAuth();
  const location = useLocation();
  if (!user) {
    if (wasSignedOutOnPurpose()) return <Navigate to="/sign-in" replace />;
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  if (roles && !roles.includes(user.role)) return <Forbidden />;
  return <>{children}</>;
}

function Forbidden() {
  return (
    <section className="page">
      <h1>Not available</h1>
      <p>This page is for other roles than yours.</p>
    </section>
  );
}

/** Where to go after signing in: the `next` the guard sent, if it is a path on this site. */
export function useNextPath(): string {
  const location = useLocation();
  const next = new URLSearchParams(location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}
