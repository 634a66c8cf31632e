"""Turns the out-of-fold logits of training/cv.py into the cross-validation report: every recipe's
ROC AUC (mean over repeats, 95% stratified-bootstrap CI), sensitivity at 90% specificity and ECE; the
ABCD-feature logistic regression alone and stacked with each network; the calibration of each shipped
classifier with ECE before / after; each shipped classifier's decision threshold (scripts/package-plugins.ts
writes it into the manifest) and the shipped pair's; a reliability diagram per classifier.

Usage: /usr/bin/python3 training/cv_report.py  (after cv.py for both classifiers)
Writes training/cv/results.json, training/cv/abcd-features.json, plugins/<name>/reliability.png and
the generated table section of docs/models.md.
"""
import json
import os

import numpy as np

from abcd import FEATURES, feature_matrix
from calibration import (BOOTSTRAP, bootstrap_auc_ci, ece, fit_platt, fit_temperature, rates_at, reliability_bins, sensitivity_at_specificity,
                         sigmoid, youden_threshold)
from common import ROOT, load_tensors, roc_auc, select, write_json
from cv_docs import render_markdown, replace_section
from logreg import LogReg
from reliability_plot import draw_reliability

CLASSIFIERS = {"dg-gap-classifier": "GAP + linear", "dg-mlp-classifier": "GAP + MLP"}
ENSEMBLE_WEIGHTS = [0.0, 0.25, 0.5, 0.75, 1.0]  # weight of dg-gap-classifier; the rest on dg-mlp-classifier


def summary(score_sets, labels, probs_sets=None) -> dict:
    """Figures of one recipe: score_sets holds one out-of-fold score per dev image and repeat;
    probs_sets (default sigmoid of the scores) are the probabilities whose calibration is measured."""
    probs_sets = probs_sets if probs_sets is not None else [sigmoid(s) for s in score_sets]
    aucs = [roc_auc(s, labels) for s in score_sets]
    return {"rocAuc": round(float(np.mean(aucs)), 4), "rocAucCi95": [round(v, 4) for v in bootstrap_auc_ci(score_sets, labels)],
            "rocAucPerRepeat": [round(a, 4) for a in aucs],
            "sensitivityAt90Specificity": round(float(np.mean([sensitivity_at_specificity(s, labels, 0.9) for s in score_sets])), 4),
            "ece": round(float(np.mean([ece(p, labels) for p in probs_sets])), 4)}


def cross_fit(fold, fit_predict) -> np.ndarray:
    """Out-of-fold values: for each fold f, fit_predict(train_rows, held_rows) fitted without fold f."""
    fold = np.asarray(fold)
    out = np.zeros(len(fold))
    for f in np.unique(fold):
        out[fold == f] = fit_predict(np.flatnonzero(fold != f), np.flatnonzero(fold == f))
    return out


def logreg_oof(x: np.ndarray, y: np.ndarray, fold) -> np.ndarray:
    return cross_fit(fold, lambda tr, te: LogReg().fit(x[tr], y[tr]).decision(x[te]))


def calibration(z_sets, y, folds) -> dict:
    """What ships: P = sigmoid(z / T + shift), (T, shift) fitted on all out-of-fold z; temperature alone for
    comparison. Honest after-figures: per repeat, each fold's parameters fitted on the other folds only."""
    pooled_z, pooled_y = np.concatenate(z_sets), np.tile(y, len(z_sets))
    temperature, shift = fit_platt(pooled_z, pooled_y)
    t_only = fit_temperature(pooled_z, pooled_y)

    def platt(tr, te, z):
        t, c = fit_platt(z[tr], y[tr])
        return z[te] / t + c

    crossed = [cross_fit(fold, lambda tr, te, z=z: platt(tr, te, z)) for z, fold in zip(z_sets, folds)]
    crossed_t = [cross_fit(fold, lambda tr, te, z=z: z[te] / fit_temperature(z[tr], y[tr])) for z, fold in zip(z_sets, folds)]
    before = [sigmoid(z) for z in z_sets]
    after = [sigmoid(z) for z in crossed]
    mean_ece = lambda sets: round(float(np.mean([ece(p, y) for p in sets])), 4)  # noqa: E731
    return {"temperature": temperature, "shift": shift,
            "eceBefore": mean_ece(before), "eceAfter": mean_ece(after),
            "eceAfterInSample": mean_ece([sigmoid(z / temperature + shift) for z in z_sets]),
            "temperatureOnly": {"temperature": t_only, "eceAfter": mean_ece([sigmoid(z) for z in crossed_t])},
            "binsBefore": reliability_bins(np.concatenate(before), pooled_y),
            "binsAfter": reliability_bins(np.concatenate(after), pooled_y)}


THRESHOLD_RULE = ("Youden's J (sensitivity + specificity - 1) at its largest over the thresholds 0.01 to 0.99 in steps of 0.01, "
                  "for 'P(malignant) >= t', on the pooled out-of-fold predictions of all repeats as calibrated probabilities "
                  "(the shipped T and shift); of equal J the lowest t")


def rounded(r: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) and k != "threshold" else v) for k, v in r.items()}


def decision_threshold(probs, labels) -> dict:
    """The threshold a classifier ships with, chosen on its out-of-fold calibrated probabilities, with the
    out-of-fold sensitivity and specificity at it and, for comparison, at 0.5."""
    return {"rule": THRESHOLD_RULE, **rounded(youden_threshold(probs, labels)), "at0.5": rounded(rates_at(probs, labels, 0.5))}


def main() -> None:
    oof = {n: json.load(open(os.path.join(ROOT, "training/cv", f"{n}.oof.json"))) for n in CLASSIFIERS}
    first = next(iter(oof.values()))
    ids, y, folds = first["ids"], np.array(first["labels"]), first["fold"]
    assert all(o["ids"] == ids and o["fold"] == folds for o in oof.values()), "both classifiers must share the partitions"
    x_all, all_ids, _, spec = load_tensors("classifier-input")
    feats = feature_matrix(x_all[select(all_ids, ids)].numpy(), float(spec["mean"][0]), float(spec["std"][0]))
    write_json(os.path.join(ROOT, "training/cv/abcd-features.json"),
               {"features": FEATURES, "ids": ids, "values": [[round(v, 6) for v in row] for row in feats.tolist()]})
    z = {n: [np.array(r) for r in o["z"]] for n, o in oof.items()}
    z_tta = {n: [np.array(r) for r in o["zTta"]] for n, o in oof.items()}
    abcd = [logreg_oof(feats, y, fold) for fold in folds]
    recipes, classifiers = {}, {}
    for n, label in CLASSIFIERS.items():
        recipes[f"{label}: current recipe"] = summary(z[n], y)
        recipes[f"{label}: + TTA (8 dihedral views)"] = summary(z_tta[n], y)
        recipes[f"{label}: ensemble of the 2 repeats' fold models"] = summary([np.mean(z[n], 0)], y)
        recipes[f"{label}: ensemble of the 2 repeats + TTA"] = summary([np.mean(z_tta[n], 0)], y)
        stacked = [logreg_oof(np.hstack([feats, zr[:, None]]), y, fold) for zr, fold in zip(z[n], folds)]
        recipes[f"{label} stacked with ABCD features (logistic regression)"] = summary(stacked, y)
        folds_auc = [m["heldOutAuc"] for m in oof[n]["models"]]
        classifiers[n] = {"arch": label, "hyperparameters": oof[n]["hyperparameters"], "current": recipes[f"{label}: current recipe"],
                          "foldModelAuc": {"mean": round(float(np.mean(folds_auc)), 4), "sd": round(float(np.std(folds_auc, ddof=1)), 4),
                                           "min": round(min(folds_auc), 4), "max": round(max(folds_auc), 4)},
                          "calibration": calibration(z[n], y, folds)}
    pooled_y = np.tile(y, first["repeats"])
    for n in CLASSIFIERS:
        cal_n = classifiers[n]["calibration"]
        classifiers[n]["decisionThreshold"] = decision_threshold(
            sigmoid(np.concatenate(z[n]) / cal_n["temperature"] + cal_n["shift"]), pooled_y)
    recipes["ABCD features alone (logistic regression)"] = summary(abcd, y)
    gap, mlp = CLASSIFIERS
    # the ensemble averages calibrated probabilities (what a server-side ensemble of the shipped,
    # temperature-scaled models averages); AUC is computed on that average
    cal = {n: classifiers[n]["calibration"] for n in CLASSIFIERS}
    shipped = lambda n, zr: sigmoid(zr / cal[n]["temperature"] + cal[n]["shift"])  # noqa: E731
    weights = {}
    for w in ENSEMBLE_WEIGHTS:
        for tta, zz in (("", z), (" + TTA", z_tta)):
            probs = [w * shipped(gap, a) + (1 - w) * shipped(mlp, b) for a, b in zip(zz[gap], zz[mlp])]
            s = summary(probs, y, probs)
            weights[f"{w:.2f}{tta}"] = s
            if w == 0.5:
                recipes[f"ensemble GAP + MLP, equal weights, calibrated probabilities{tta}"] = s
    # The shipped pair (gap-mlp-average): equal weights, deciding at the weighted mean of its members'
    # thresholds as the server does (ensembleDecisionThreshold in src/inference/ensemble.ts); its own
    # Youden threshold for comparison.
    pair = np.concatenate([0.5 * shipped(gap, a) + 0.5 * shipped(mlp, b) for a, b in zip(z[gap], z[mlp])])
    pair_t = round(0.5 * classifiers[gap]["decisionThreshold"]["threshold"] + 0.5 * classifiers[mlp]["decisionThreshold"]["threshold"], 4)
    pair_threshold = {"members": {gap: 0.5, mlp: 0.5}, "threshold": pair_t, **rounded(rates_at(pair, pooled_y, pair_t)),
                      "ownYouden": rounded(youden_threshold(pair, pooled_y))}
    results = {"protocol": {"pool": "training/splits.json train + validation (256 images: 178 benign, 78 malignant); test split untouched",
                            "folds": first["folds"], "repeats": first["repeats"], "foldSeeds": first["foldSeeds"], "trainSeed": first["trainSeed"],
                            "bootstrap": BOOTSTRAP, "sensitivityAtSpecificity": 0.9, "eceBins": 10},
               "classifiers": classifiers, "recipes": recipes, "ensembleWeightOfGap": weights, "gapMlpAverageThreshold": pair_threshold,
               "abcdFeatures": FEATURES}
    write_json(os.path.join(ROOT, "training/cv/results.json"), results)
    for n in CLASSIFIERS:
        draw_reliability(classifiers[n]["calibration"], f"{n}: out-of-fold, {first['folds']} folds x {first['repeats']} repeats",
                         os.path.join(ROOT, "plugins", n, "reliability.png"))
    replace_section(os.path.join(ROOT, "docs/models.md"), render_markdown(results))
    for n in CLASSIFIERS:
        d = classifiers[n]["decisionThreshold"]
        print(f"{n}: decision threshold {d['threshold']} (out-of-fold sensitivity {d['sensitivity']:.4f}, specificity {d['specificity']:.4f})")
    for k, v in recipes.items():
        print(f"{k:70s} AUC {v['rocAuc']:.4f} ({v['rocAucCi95'][0]:.4f}-{v['rocAucCi95'][1]:.4f}) sens@90 {v['sensitivityAt90Specificity']:.4f} ECE {v['ece']:.4f}")


if __name__ == "__main__":
    main()
