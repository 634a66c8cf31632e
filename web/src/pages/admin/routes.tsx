// The admin pages: routes (children of the signed-in layout) and the navigation link for them. One "Admin" link in
// the main navigation; the admin frame adds its own sub-navigation (users, models, audit log, logs, jobs, system). The pages load
// on first visit (their own chunks), so people who never open them do not download them.
import { Navigate, type RouteObject } from 'react-router';
import { RequireAuth } from '../../app/auth';
import type { NavItem } from '../../app/nav';
import { AdminFrame } from './admin-frame';

export const adminRoutes: RouteObject[] = [
  {
    path: 'admin',
    element: (
      <RequireAuth roles={['ADMIN']}>
        <AdminFrame />
      </RequireAuth>
    ),
    children: [
      { index: true, element: <Navigate to="users" replace /> },
      { path: 'users', lazy: async () => ({ Component: (await import('./users/users-page')).UsersPage }) },
      { path: 'models', lazy: async () => ({ Component: (await import('./models/models-page')).ModelsPage }) },
      { path: 'audit', lazy: async () => ({ Component: (await import('./audit/audit-page')).AuditPage }) },
      { path: 'logs', lazy: async () => ({ Component: (await import('./logs/logs-page')).LogsPage }) },
      { path: 'jobs', lazy: async () => ({ Component: (await import('./jobs/jobs-page')).JobsPage }) },
      { path: 'system', lazy: async () => ({ Component: (await import('./system/system-page')).SystemPage }) },
    ],
  },
];

export const adminNav: NavItem[] = [{ to: '/admin', label: 'Admin', roles: ['ADMIN'] }];
