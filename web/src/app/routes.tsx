// The route table. Signed-out pages stand alone; every other page is a child of the signed-in Layout (which
// sends visitors to /sign-in). Each area adds its pages through its own routes.tsx.
import type { RouteObject } from 'react-router';
import { Layout } from './layout';
import { clinicalRoutes } from '../pages/clinical/routes';
import { adminRoutes } from '../pages/admin/routes';
import { researchRoutes } from '../pages/research/routes';
import { SignInPage } from '../pages/auth/sign-in';
import { RegisterPage } from '../pages/auth/register';
import { VerifyEmailPage } from '../pages/auth/verify-email';
import { ForgotPasswordPage } from '../pages/auth/forgot-password';
import { ResetPasswordPage } from '../pages/auth/reset-password';
import { SecurityPage } from '../pages/auth/security';
import { DashboardPage } from '../pages/dashboard';
import { NotFoundPage } from '../pages/not-found';

export const routes: RouteObject[] = [
  { path: '/sign-in', element: <SignInPage /> },
  { path: '/register', element: <RegisterPage /> },
  // The mailed links (PUBLIC_URL/verify-email?token=..., /reset-password?token=...) land here.
  { path: '/verify-email', element: <VerifyEmailPage /> },
  { path: '/forgot-password', element: <ForgotPasswordPage /> },
  { path: '/reset-password', element: <ResetPasswordPage /> },
  {
    path: '/',
    element: <Layout />,
    // Shown while the pages that load on first visit (admin, research) arrive, when the console is opened on one of them.
    hydrateFallbackElement: <p role="status">Loading…</p>,
    children: [
      { index: true, element: <DashboardPage /> },
      { path: 'security', element: <SecurityPage /> },
      ...clinicalRoutes,
      ...researchRoutes,
      ...adminRoutes,
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];
