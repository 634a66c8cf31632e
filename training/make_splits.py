"""Stratified, seeded train / validation / test split of datasets/isic-uda1 by label.

Writes training/splits.json: {"seed", "fractions", "counts", "train": [ids], "validation": [ids], "test": [ids]}.
Each label is shuffled on its own with the fixed seed and cut 60 / 20 / 20, so every split keeps the
dataset's benign : malignant ratio (223 : 97).
"""
import csv
import json
import os

import numpy as np

SEED = 20240521
FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    with open(os.path.join(ROOT, "datasets/isic-uda1/labels.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    by_label: dict[str, list[str]] = {}
    for row in rows:
        by_label.setdefault(row["benign_malignant"], []).append(row["isic_id"])
    rng = np.random.RandomState(SEED)
    splits: dict[str, list[str]] = {k: [] for k in FRACTIONS}
    counts: dict[str, dict[str, int]] = {k: {} for k in FRACTIONS}
    for label in sorted(by_label):
        ids = sorted(by_label[label])
        rng.shuffle(ids)
        n_val = round(len(ids) * FRACTIONS["validation"])
        n_test = round(len(ids) * FRACTIONS["test"])
        parts = {"test": ids[:n_test], "validation": ids[n_test:n_test + n_val], "train": ids[n_test + n_val:]}
        for name, part in parts.items():
            splits[name].extend(part)
            counts[name][label] = len(part)
    out = {"seed": SEED, "fractions": FRACTIONS, "counts": counts, **{k: sorted(v) for k, v in splits.items()}}
    with open(os.path.join(ROOT, "training/splits.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
