"""Pure functions for the cross-validation report: bootstrap CI of ROC AUC, sensitivity at a fixed
specificity, expected calibration error, reliability bins, temperature scaling of binary logits and
temperature plus bias (Platt scaling).

A binary classifier here gives two logits; its P(malignant) is sigmoid(z) with z = l1 - l0, and
softmax(l / T) = sigmoid(z / T), so a temperature acts on z alone.
"""
import numpy as np

from common import roc_auc
from logreg import LogReg

BOOTSTRAP = {"iterations": 2000, "seed": 20240521, "level": 0.95}  # as scripts/evaluate.ts


def sigmoid(z) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def bootstrap_auc_ci(score_sets, labels, iterations=BOOTSTRAP["iterations"], seed=BOOTSTRAP["seed"], level=BOOTSTRAP["level"]):
    """Percentile CI of the mean ROC AUC over score_sets (one per CV repeat, same images), resampling
    images with replacement within each class (stratified), the same resample for every set."""
    labels = np.asarray(labels)
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    rng = np.random.RandomState(seed)
    stats = np.empty(iterations)
    for b in range(iterations):
        idx = np.concatenate([pos[rng.randint(0, len(pos), len(pos))], neg[rng.randint(0, len(neg), len(neg))]])
        stats[b] = np.mean([roc_auc(np.asarray(s)[idx], labels[idx]) for s in score_sets])
    tail = (1 - level) / 2
    return [float(np.quantile(stats, tail)), float(np.quantile(stats, 1 - tail))]


def sensitivity_at_specificity(scores, labels, specificity=0.9) -> float:
    """Largest sensitivity of a rule 'score > t' whose specificity is at least `specificity`:
    t is the (k+1)-th highest benign score, k = floor((1 - specificity) * benign count), so at most
    k benign scores lie above t and ties at t count as benign calls."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    neg = np.sort(scores[labels == 0])[::-1]
    k = int(np.floor((1 - specificity) * len(neg) + 1e-9))
    t = neg[k]
    return float(np.mean(scores[labels == 1] > t))


def reliability_bins(probs, labels, bins=10) -> list:
    """Equal-width bins of P(malignant) on [0, 1] (the last one closed): count, mean P, observed rate."""
    probs, labels = np.asarray(probs, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    which = np.minimum((probs * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        m = which == b
        n = int(m.sum())
        out.append({"lo": b / bins, "hi": (b + 1) / bins, "n": n,
                    "meanP": float(probs[m].mean()) if n else None, "observed": float(labels[m].mean()) if n else None})
    return out


def ece(probs, labels, bins=10) -> float:
    """Expected calibration error of P(malignant): sum over bins of (share of images) x |observed - mean P|."""
    total = len(probs)
    return float(sum(b["n"] / total * abs(b["observed"] - b["meanP"]) for b in reliability_bins(probs, labels, bins) if b["n"]))


def nll(z, labels, temperature: float) -> float:
    """Mean binary cross-entropy of sigmoid(z / T)."""
    z, y = np.asarray(z, dtype=np.float64) / temperature, np.asarray(labels, dtype=np.float64)
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def fit_temperature(z, labels, lo=0.05, hi=20.0, iterations=200) -> float:
    """The T > 0 minimising the NLL of sigmoid(z / T): golden-section search on log T (the NLL is
    unimodal in 1/T), deterministic, rounded to 6 digits so the shipped weights do not depend on the last bit."""
    a, b = np.log(lo), np.log(hi)
    g = (np.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    for _ in range(iterations):
        if nll(z, labels, np.exp(c)) < nll(z, labels, np.exp(d)):
            b, d = d, c
            c = b - g * (b - a)
        else:
            a, c = c, d
            d = a + g * (b - a)
    return round(float(np.exp((a + b) / 2)), 6)


def fit_platt(z, labels) -> tuple:
    """(T, shift) with P = sigmoid(z / T + shift) of least NLL (logistic regression on z, unregularised):
    a temperature plus a bias term. The shift undoes the offset that class-weighted training gives
    (the loss treats both classes as equally common). Rounded to 6 digits."""
    z = np.asarray(z, dtype=np.float64)
    m = LogReg(l2=0.0).fit(z[:, None], np.asarray(labels, dtype=np.float64))
    scale = m.w[1] / m.sd[0]
    shift = m.w[0] - m.w[1] * m.mu[0] / m.sd[0]
    return round(float(1.0 / scale), 6), round(float(shift), 6)


def rates_at(probs, labels, threshold: float) -> dict:
    """Sensitivity and specificity of the rule 'P(malignant) >= threshold' (the server's rule: a tie calls malignant)."""
    probs, labels = np.asarray(probs, dtype=np.float64), np.asarray(labels)
    sens = float(np.mean(probs[labels == 1] >= threshold))
    spec = float(np.mean(probs[labels == 0] < threshold))
    return {"sensitivity": sens, "specificity": spec, "youdenJ": sens + spec - 1}


THRESHOLD_GRID = [round(k / 100, 2) for k in range(1, 100)]


def youden_threshold(probs, labels, grid=THRESHOLD_GRID) -> dict:
    """The decision threshold of largest Youden's J = sensitivity + specificity - 1 among the thresholds a
    manifest would hold (2 decimals, 0.01 to 0.99), for 'P >= t'; of equal J the lowest t (more sensitive).
    A search over the 2-decimal grid rather than the exact optimum rounded afterwards, so the figures
    reported at the chosen threshold are its own and no other 2-decimal threshold does better."""
    best = None
    for t in grid:
        r = rates_at(probs, labels, t)
        if best is None or r["youdenJ"] > best["youdenJ"] + 1e-12:
            best = {"threshold": t, **r}
    return best
