"""Repeated stratified k-fold cross-validation of one classifier recipe on the development pool
(train + validation of training/splits.json; the test images are dropped right after loading).

Usage: /usr/bin/python3 training/cv.py --arch gap-linear --name dg-gap-classifier [train_classifier options]
Each (repeat, fold) model trains on the other folds for a fixed number of epochs and keeps its last
weights (no early stopping: the held-out fold must not steer anything); its held-out fold's
z = logit(malignant) - logit(benign) is stored plain and with test-time augmentation (8 dihedral views).
Writes training/cv/<name>.oof.json.
"""
import argparse
import os
import time

import numpy as np

from common import ROOT, load_splits, load_tensors, roc_auc, seed_everything, select, stratified_folds, write_json
import train_classifier as tc

FOLDS, REPEATS = 5, 2
FOLD_SEED = 20251201  # repeat r uses FOLD_SEED + r for the partition and tc.SEED + 100 * r + fold for training


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--ema", type=float, default=0.0)
    ap.add_argument("--mixup", type=float, default=0.0)
    ap.add_argument("--widths", type=int, nargs=4, default=[8, 16, 32, 48])
    ap.add_argument("--only", help="repeat,fold: train just this model and print its z (reproducibility checks)")
    return ap


def dev_pool(ids):
    splits = load_splits()
    dev = sorted(splits["train"] + splits["validation"])
    assert not set(dev) & set(splits["test"])
    return dev, select(ids, dev)


def run_fold(args, x, y, fold, r: int, f: int, mean: float, std: float) -> dict:
    held = [i for i, k in enumerate(fold) if k == f]
    fit = [i for i, k in enumerate(fold) if k != f]
    seed_everything(tc.SEED + 100 * r + f)
    started = time.time()
    model, _, curve = tc.train(args, x[fit], y[fit], x[held], y[held], mean, std, select_best=False)
    return {"repeat": r, "fold": f, "held": held, "seconds": round(time.time() - started, 1),
            "curve": [round(c["valAuc"], 4) for c in curve],
            "z": tc.logit_diff(model, x[held]).tolist(), "zTta": tc.logit_diff(model, x[held], tta=True).tolist()}


def main() -> None:
    args = parser().parse_args()
    args.patience = args.epochs  # unused: no early stopping
    x_all, ids, y_all, spec = load_tensors(tc.SPEC_NAME)
    mean, std = float(spec["mean"][0]), float(spec["std"][0])
    dev, rows = dev_pool(ids)
    x, y = x_all[rows], y_all[rows]
    folds = [stratified_folds(y.numpy(), FOLDS, FOLD_SEED + r) for r in range(REPEATS)]
    if args.only:
        r, f = (int(v) for v in args.only.split(","))
        res = run_fold(args, x, y, folds[r], r, f, mean, std)
        print(" ".join(f"{v:.9g}" for v in res["z"]))
        return
    z = np.zeros((REPEATS, len(dev)))
    z_tta = np.zeros((REPEATS, len(dev)))
    models = []
    for r in range(REPEATS):
        for f in range(FOLDS):
            res = run_fold(args, x, y, folds[r], r, f, mean, std)
            z[r, res["held"]], z_tta[r, res["held"]] = res["z"], res["zTta"]
            auc = roc_auc(res["z"], y[res["held"]].numpy())
            print(f"{args.name} repeat {r} fold {f}: held-out AUC {auc:.4f} ({res['seconds']} s)", flush=True)
            # no seconds here: the file must come out the same bit for bit on every run
            models.append({k: res[k] for k in ("repeat", "fold", "curve")} | {"heldOutAuc": auc})
    hyper = {k: v for k, v in vars(args).items() if k not in ("name", "only", "patience")}
    write_json(os.path.join(ROOT, "training/cv", f"{args.name}.oof.json"), {
        "name": args.name, "hyperparameters": hyper, "folds": FOLDS, "repeats": REPEATS,
        "foldSeeds": [FOLD_SEED + r for r in range(REPEATS)], "trainSeed": tc.SEED,
        "ids": dev, "labels": y.tolist(), "fold": folds,
        "z": [[round(v, 6) for v in row] for row in z.tolist()],
        "zTta": [[round(v, 6) for v in row] for row in z_tta.tolist()], "models": models,
    })


if __name__ == "__main__":
    main()
