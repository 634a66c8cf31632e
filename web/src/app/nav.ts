// A link in the console's navigation. Each area exports its own list beside its routes
// (pages/<area>/routes.tsx); the layout shows the links whose roles include the signed-in user's.
import type { SessionUser } from './session';

export type Role = SessionUser['role'];

export interface NavItem {
  to: string;
  label: string;
  /** Who sees the link (the API still decides what each role may do). */
  roles: readonly Role[];
}
