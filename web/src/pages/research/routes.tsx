// The research pages: routes (children of the signed-in layout) and the navigation link for them.
import type { RouteObject } from 'react-router';
import { RequireAuth } from '../../app/auth';
import type { NavItem } from '../../app/nav';
import { ResearchPage } from './research-page';

export const researchRoutes: RouteObject[] = [
  {
    path: 'research',
    element: (
      <RequireAuth roles={['RESEARCHER', 'ADMIN']}>
        <ResearchPage />
      </RequireAuth>
    ),
  },
];

export const researchNav: NavItem[] = [{ to: '/research', label: 'Research', roles: ['RESEARCHER', 'ADMIN'] }];
