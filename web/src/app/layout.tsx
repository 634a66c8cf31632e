// The frame of every signed-in page: a skip link, the header with the navigation for the user's role and the
// account menu, and the page itself. Signed-out pages (sign in, register, ...) use AuthFrame instead.
import { useEffect, useRef, type ReactNode } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { RequireAuth, useAuth } from './auth';
import type { NavItem } from './nav';
import { clinicalNav } from '../pages/clinical/routes';
import { adminNav } from '../pages/admin/routes';
import { researchNav } from '../pages/research/routes';

const HOME: NavItem[] = [{ to: '/', label: 'Dashboard', roles: ['ADMIN', 'CLINICIAN', 'RESEARCHER'] }];

function Nav() {
  const { user } = useAuth();
  if (!user) return null;
  const items = [...HOME, ...clinicalNav, ...researchNav, ...adminNav].filter((i) => i.roles.includes(user.role));
  return (
    <nav aria-label="Main" className="app-nav">
      <ul>
        {items.map((item) => (
          <li key={item.to}>
            <NavLink to={item.to} end={item.to === '/'}>
              {item.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function AccountMenu() {
  const { user, signOut } = useAuth();
  if (!user) return null;
  return (
    <div className="app-account">
      <span className="app-account-email" title={user.role}>
        {user.email} <span className="app-role">{user.role.toLowerCase()}</span>
      </span>
      <NavLink to="/security">Security</NavLink>
      {/* The guard sends a signed-out visitor to /sign-in. */}
      <button type="button" className="button button-quiet" onClick={() => void signOut()}>
        Sign out
      </button>
    </div>
  );
}

/**
 * After a navigation inside the app (not the first load), focus moves to the new page's <main>, so keyboard and
 * screen-reader users start at its content as they would after a full page load.
 */
let firstPage = true;

function useFocusOnNavigate() {
  const ref = useRef<HTMLElement>(null);
  const { pathname } = useLocation();
  useEffect(() => {
    if (firstPage) {
      firstPage = false;
      return;
    }
    ref.current?.focus();
  }, [pathname]);
  return ref;
}

export function Layout() {
  const main = useFocusOnNavigate();
  return (
    <RequireAuth>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <NavLink to="/" className="app-brand" aria-label="Dermagraph home">
          Dermagraph
        </NavLink>
        <Nav />
        <AccountMenu />
      </header>
      <main id="main" className="app-main" tabIndex={-1} ref={main}>
        <Outlet />
      </main>
    </RequireAuth>
  );
}

/** The centred card of the signed-out pages. */
export function AuthFrame({ children }: { children: ReactNode }) {
  const main = useFocusOnNavigate();
  return (
    <>
      <header className="app-header app-header-plain">
        <span className="app-brand">Dermagraph</span>
      </header>
      <main id="main" className="auth-main" tabIndex={-1} ref={main}>
        <div className="auth-card">{children}</div>
      </main>
    </>
  );
}
