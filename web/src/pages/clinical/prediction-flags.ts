// How the console marks a classification that abstained (Prediction.abstained; its reasons come from the server,
// in the words the PDF report uses).

/** A short label-and-confidence text marked when the prediction abstained: "indeterminate — benign 55%". */
export function markIndeterminate(p: { abstained?: boolean | null }, text: string): string {
  return p.abstained ? `indeterminate — ${text}` : text;
}

/** Prediction.reasons as one sentence: "The image is too dark; the image is blurred or featureless." */
export function reasonSentence(reasons: readonly string[]): string {
  const text = reasons.join('; ');
  return text ? `${text[0].toUpperCase()}${text.slice(1)}.` : '';
}
