"""Shared helpers for the training scripts: the exported tensors, the split, seeding, ROC AUC."""
import json
import os
import random

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "training/.cache")

# The CPU kernels training is pinned to (the Makefile exports them). PyTorch picks its kernels by the
# CPU's instruction set, and AVX-512 and AVX2 kernels round differently, so without the pin the same
# seeds train different weights on different machines. ATen reads ATEN_CPU_CAPABILITY and oneDNN reads
# ONEDNN_MAX_CPU_ISA once, at their first use, so setting them from Python here would be too late for
# any torch work done before (and for whatever imported torch first): they must come from the
# environment the process starts with.
PINNED_CPU_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def aten_cpu_capability() -> str:
    """The instruction set ATen's kernels actually use ("AVX2", "AVX512", "NO AVX"), as torch reports it."""
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def require_pinned_cpu_kernels() -> dict:
    """Refuses to train unless the CPU kernels are pinned (and ATen really runs AVX2: a CPU without it
    falls back to slower kernels with other rounding); returns what the training provenance records."""
    wrong = {k: os.environ.get(k) for k, v in PINNED_CPU_KERNELS.items() if os.environ.get(k) != v}
    if wrong:
        raise SystemExit(
            "training needs PyTorch's CPU kernels pinned so that every machine trains the same bits: start it with "
            + " ".join(f"{k}={v}" for k, v in PINNED_CPU_KERNELS.items())
            + " in the environment (`make train-models` / `npm run train:models` do); found "
            + ", ".join(f"{k}={v!r}" for k, v in wrong.items()))
    capability = aten_cpu_capability()
    if capability != "AVX2":
        raise SystemExit(f"ATEN_CPU_CAPABILITY=avx2 is set but torch runs {capability!r} kernels: this CPU lacks AVX2, "
                         "so it cannot reproduce the shipped weights")
    return {**PINNED_CPU_KERNELS, "atenCpuCapability": capability, "torch": torch.__version__}


def seed_everything(seed: int) -> None:
    require_pinned_cpu_kernels()
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
