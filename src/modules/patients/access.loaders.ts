import type { AppContext } from '../../schema/context';
import { requestLoader } from '../../schema/loaders';
import { findAccessible, type AccessTarget, type Permission } from './access-policy';

/**
 * The row behind each id when the request's caller may access it with `permission`, else null
 * (no caller: null): findAccessible batched over a request, so a page of navigation fields
 * (Image.patient, Prediction.image, ...) costs one statement per permission.
 */
export const accessibleById = <P extends Permission>(ctx: AppContext, permission: P) =>
  requestLoader<string, AccessTarget<P> | null>(ctx, `accessibleById:${permission}`, async (ids) =>
    ctx.user ? findAccessible(ctx.em, ctx.user, permission, ids) : ids.map(() => null),
  );
