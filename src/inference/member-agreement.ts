/**
 * How much the members of a segmentation ensemble agree: the mean Dice of their masks, pair by pair.
 * 1 means every member drew the same mask; near 0, they drew different things, and the ensemble's
 * mask deserves less trust (an uncertainty signal, not a probability).
 */
import { overlap } from './mask-metrics';

/** Mean of Dice(a, b) over every unordered pair of masks; null for fewer than two. */
export function meanPairwiseDice(masks: readonly ArrayLike<number>[]): number | null {
  if (masks.length < 2) return null;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < masks.length; i++)
    for (let j = i + 1; j < masks.length; j++) {
      sum += overlap(masks[i], masks[j]).dice;
      pairs++;
    }
  return sum / pairs;
}
