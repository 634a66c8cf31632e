// The admin pages: routes (children of the signed-in layout) and the navigation link for them. One "Admin" link in
// the main navigation; the admin frame adds its own sub-navigation (users, models, audit log, system).
import { Navigate, type RouteObject } from 'react-router';
import { RequireAuth } from '../../app/auth';
import type { NavItem } from '../../app/nav';
import { AdminFrame } from './admin-frame';
import { UsersPage } from './users/users-page';
import { ModelsPage } from './models/models-page';
import { AuditPage } from './audit/audit-page';
import { SystemPage } from './system/system-page';

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
      { path: 'users', element: <UsersPage /> },
      { path: 'models', element: <ModelsPage /> },
      { path: 'audit', element: <AuditPage /> },
      { path: 'system', element: <SystemPage /> },
    ],
  },
];

export const adminNav: NavItem[] = [{ to: '/admin', label: 'Admin', roles: ['ADMIN'] }];
