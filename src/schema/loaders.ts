import DataLoader from 'dataloader';
import type { AppContext } from './context';

/**
 * The request's DataLoader for `name`, created on first use and kept in `ctx.loaders`, so every
 * field resolver of one request shares a batch (and its cache) and no request sees another's.
 */
export function requestLoader<K, V>(
  ctx: Pick<AppContext, 'loaders'>,
  name: string,
  batch: (keys: readonly K[]) => Promise<readonly (V | Error)[]>,
): DataLoader<K, V> {
  let loader = ctx.loaders.get(name) as DataLoader<K, V> | undefined;
  if (!loader) {
    loader = new DataLoader<K, V>(batch);
    ctx.loaders.set(name, loader);
  }
  return loader;
}

/** Rows in the order of `ids`, null where none matched: the shape a DataLoader batch returns. */
export function byId<T extends { id: string }>(rows: T[], ids: readonly string[]): (T | null)[] {
  const m = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => m.get(id) ?? null);
}
