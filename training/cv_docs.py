"""Markdown of the cross-validation results (training/cv/results.json) for docs/models.md, between
two marker comments so the rest of the page stays hand-written."""
BEGIN, END = "<!-- cv-results:begin (training/cv_report.py writes this part) -->", "<!-- cv-results:end -->"


def fmt(m: dict) -> str:
    lo, hi = m["rocAucCi95"]
    return f"| {m['rocAuc']:.4f} ({lo:.4f} to {hi:.4f}) | {m['sensitivityAt90Specificity']:.4f} | {m['ece']:.4f} |"


def render_markdown(results: dict) -> str:
    p = results["protocol"]
    lines = [f"Repeated stratified {p['folds']}-fold cross-validation, {p['repeats']} repeats (partition seeds {p['foldSeeds']}), "
             f"on the development pool ({p['pool']}). Figures are out-of-fold: ROC AUC is the mean over repeats of the "
             f"AUC of all {p['repeats']} x 256 held-out predictions, with a 95% percentile CI from a bootstrap of images within each class "
             f"({p['bootstrap']['iterations']} resamples, seed {p['bootstrap']['seed']}); sensitivity at 90% specificity and ECE "
             f"(10 equal-width bins of P(malignant)) are means over repeats.", "",
             "| recipe | ROC AUC (95% CI) | sensitivity at 90% specificity | ECE |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} {fmt(m)}" for name, m in results["recipes"].items()]
    lines += ["", "Calibration, fitted on out-of-fold logits only: P = sigmoid(z / T + shift) (temperature plus a bias term, "
              "what ships), and temperature alone for comparison. ECE after is cross-fitted (each fold's parameters "
              "fitted on the other folds):", "",
              "| classifier | T | shift | ECE before | ECE after (T + shift) | ECE after (T + shift fitted on all folds) | T alone | ECE after (T alone) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, c in results["classifiers"].items():
        cal, t = c["calibration"], c["calibration"]["temperatureOnly"]
        lines.append(f"| {name} | {cal['temperature']:.4f} | {cal['shift']:.4f} | {cal['eceBefore']:.4f} | {cal['eceAfter']:.4f} | "
                     f"{cal['eceAfterInSample']:.4f} | {t['temperature']:.4f} | {t['eceAfter']:.4f} |")
    lines += ["", "Ensemble of the two shipped classifiers (their calibrated probabilities averaged, with the calibrations fitted on "
              "all folds, so the ECE here is the optimistic in-sample kind) by weight of dg-gap-classifier:", "",
              "| weight of dg-gap-classifier | ROC AUC (95% CI) | sensitivity at 90% specificity | ECE |", "| --- | --- | --- | --- |"]
    lines += [f"| {w} {fmt(m)}" for w, m in results["ensembleWeightOfGap"].items()]
    first = next(iter(results["classifiers"].values()))["decisionThreshold"]
    lines += ["", f"Decision thresholds (`postprocess.decisionThreshold`, written into the manifests by scripts/package-plugins.ts): "
              f"{first['rule']}. Out-of-fold sensitivity and specificity at the chosen threshold and at 0.5:", "",
              "| classifier | threshold | sensitivity | specificity | Youden's J | at 0.5: sensitivity | at 0.5: specificity |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, c in results["classifiers"].items():
        d = c["decisionThreshold"]
        lines.append(f"| {name} | {d['threshold']:.2f} | {d['sensitivity']:.4f} | {d['specificity']:.4f} | {d['youdenJ']:.4f} | "
                     f"{d['at0.5']['sensitivity']:.4f} | {d['at0.5']['specificity']:.4f} |")
    pair = results["gapMlpAverageThreshold"]
    own = pair["ownYouden"]
    lines += ["", f"The shipped pair `gap-mlp-average` (equal weights) decides at the weighted mean of its members' thresholds, "
              f"{pair['threshold']:.4g}: out-of-fold sensitivity {pair['sensitivity']:.4f}, specificity {pair['specificity']:.4f} "
              f"(Youden's J {pair['youdenJ']:.4f}; the average's own best on the grid is {own['threshold']:.2f}, J {own['youdenJ']:.4f})."]
    return "\n".join(lines)


def replace_section(path: str, body: str) -> None:
    """Replaces the text between BEGIN and END in the file (both must be there)."""
    text = open(path).read()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    with open(path, "w") as f:
        f.write(text[:start] + "\n" + body + "\n" + text[end:])
