// Why a classification abstained, in the words the PDF report uses (FLAG_REASONS in src/inference/abstain.ts).
import type { PredictionFlag } from '../../gql/graphql';

const WORDS: Record<PredictionFlag, string> = {
  LOW_MARGIN: 'the probability of malignancy is too close to the decision threshold to call',
  BLURRED: 'the image is blurred or featureless',
  UNDER_EXPOSED: 'the image is too dark',
  OVER_EXPOSED: 'the image is overexposed',
  NOT_DERMOSCOPY_LIKE: 'the image does not look like dermoscopy of skin',
  NOT_ASSESSED: 'classified before image quality and confidence were checked',
};

/** A short label-and-confidence text marked when the prediction abstained: "indeterminate — benign 55%". */
export function markIndeterminate(p: { abstained?: boolean | null }, text: string): string {
  return p.abstained ? `indeterminate — ${text}` : text;
}

/** "The image is too dark; the image is blurred or featureless." */
export function flagSentence(flags: readonly PredictionFlag[]): string {
  const text = flags.map((f) => WORDS[f] ?? f).join('; ');
  return text ? `${text[0].toUpperCase()}${text.slice(1)}.` : '';
}
