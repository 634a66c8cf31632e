// The admin area's sub-navigation above each admin page.
import type { ReactNode } from 'react';
import { NavLink, Outlet } from 'react-router';
import './admin.css';

const LINKS = [
  { to: '/admin/users', label: 'Users' },
  { to: '/admin/models', label: 'Models' },
  { to: '/admin/audit', label: 'Audit log' },
  { to: '/admin/logs', label: 'Logs' },
  { to: '/admin/jobs', label: 'Jobs' },
  { to: '/admin/system', label: 'System' },
];

export function AdminFrame(): ReactNode {
  return (
    <>
      <nav className="admin-tabs" aria-label="Administration">
        <ul>
          {LINKS.map((l) => (
            <li key={l.to}>
              <NavLink to={l.to}>{l.label}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Outlet />
    </>
  );
}
