// Figures of the System page in words and units.

/** Milliseconds as people read them: one decimal under 10 ms (9.95 rounds up to 10), whole numbers from there. */
export function formatMs(ms: number): string {
  return ms < 9.95 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** "1 job", "3 jobs". */
export function countOf(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
