import type { Role } from '../../entities';

/** The caller as the access rules need it (an AuthUser has this shape). */
export interface Caller {
  id: string;
  role: Role | `${Role}`;
}
