import { deviceInfo, newSlot, type Entry, type Slot } from '../catalogue/entry';
import type { RegistryEvents } from '../catalogue/events';
import { checkPackageFiles, listPackageFiles, loadChecked } from '../package/package';

/**
 * A new session for the version of `e` on `device` (warm-up and golden cases included), reporting
 * a fallback to another device as a `fell_back` event. The package files are checked again first:
 * a reload can happen long after install, and the files on disk must still be the ones validated.
 */
export async function placeVersion(
  e: Entry,
  device: string | readonly string[],
  events: RegistryEvents,
): Promise<Slot> {
  const t0 = performance.now();
  await checkPackageFiles(e.dir, await listPackageFiles(e.dir), e.manifest);
  const { session, placement } = await loadChecked(e.dir, e.manifest, device, e.threads);
  const slot = newSlot(session, placement, performance.now() - t0);
  e.lastPlacement = placement;
  if (placement.fallbackReason) {
    events.emit({
      type: 'fell_back',
      name: e.name,
      version: e.version,
      device: deviceInfo(placement),
      message: placement.fallbackReason,
    });
  }
  return slot;
}
