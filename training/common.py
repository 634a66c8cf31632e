"""Shared helpers for the training scripts: the exported tensors, the split, seeding, ROC AUC."""
import json
import os
import random

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "training/.cache")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    # one thread: the result does not depend on how many cores are free, and others share the machine
    torch.set_num_threads(1)


def load_tensors(spec_name: str):
    """The tensors written by scripts/export-tensors.ts: (N,C,H,W) float32, ids, labels (1 = malignant)."""
    folder = os.path.join(CACHE, spec_name)
    with open(os.path.join(folder, "index.json")) as f:
        index = json.load(f)
    data = np.fromfile(os.path.join(folder, "tensors.f32"), dtype="<f4").reshape(index["shape"])
    labels = np.array([1 if l == "malignant" else 0 for l in index["labels"]], dtype=np.int64)
    return torch.from_numpy(data.copy()), index["ids"], torch.from_numpy(labels), index["spec"]


def load_splits() -> dict:
    with open(os.path.join(ROOT, "training/splits.json")) as f:
        return json.load(f)


def stratified_folds(labels, k: int, seed: int) -> list:
    """k folds of indices, each label shuffled on its own with the seed and dealt round-robin, so every
    fold keeps the label ratio; returns a fold number per index."""
    labels = np.asarray(labels)
    rng = np.random.RandomState(seed)
    fold = np.empty(len(labels), dtype=np.int64)
    start = 0
    for label in sorted(set(labels.tolist())):
        idx = np.flatnonzero(labels == label)
        rng.shuffle(idx)
        fold[idx] = (start + np.arange(len(idx))) % k  # continue the deal so fold sizes differ by at most one
        start += len(idx)
    return fold.tolist()


def select(ids: list, wanted: list) -> list:
    pos = {k: i for i, k in enumerate(ids)}
    return [pos[w] for w in wanted]


def roc_auc(scores, labels) -> float:
    """Mann-Whitney form with ties counted half, the same definition as src/inference/evaluation.ts."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    pos = scores[labels == 1]
    neg = scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def write_json(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
