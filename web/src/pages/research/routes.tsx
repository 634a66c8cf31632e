// The research pages: routes (children of the signed-in layout) and the navigation link for them.
import type { RouteObject } from 'react-router';
import { RequireAuth } from '../../app/auth';
import type { NavItem } from '../../app/nav';

export const researchRoutes: RouteObject[] = [
  {
    path: 'research',
    // Loaded on first visit (its own chunk, charts included); the guard still decides who sees it.
    lazy: async () => {
      const { ResearchPage } = await import('./research-page');
      return {
        Component: () => (
          <RequireAuth roles={['RESEARCHER', 'ADMIN']}>
            <ResearchPage />
          </RequireAuth>
        ),
      };
    },
  },
];

export const researchNav: NavItem[] = [{ to: '/research', label: 'Research', roles: ['RESEARCHER', 'ADMIN'] }];
