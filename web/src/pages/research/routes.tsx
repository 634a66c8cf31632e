// The research pages: routes (children of the signed-in layout, so paths like '/patients' or 'patients/:id') and
// the navigation links for them. Owned by the research area; app/routes.tsx and app/layout.tsx import both lists.
import type { RouteObject } from 'react-router';
import type { NavItem } from '../../app/nav';

export const researchRoutes: RouteObject[] = [];

export const researchNav: NavItem[] = [];
