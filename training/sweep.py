"""Hyperparameter sweep judged on the validation split only (the test split is never looked at here).

Usage: /usr/bin/python3 training/sweep.py gap-linear "name:k=v,k=v" ...  -> one line per configuration.
"""
import argparse
import contextlib
import io
import sys

from common import load_splits, load_tensors, seed_everything, select
import train_classifier as tc

DEFAULTS = dict(epochs=60, batch=32, lr=3e-3, weight_decay=5e-4, patience=30, dropout=0.3, mixup=0.0, ema=0.0, widths=[16, 32, 64, 96])


def parse(cfg: str) -> dict:
    out = dict(DEFAULTS)
    for kv in filter(None, cfg.split(",")):
        k, v = kv.split("=")
        out[k] = [int(w) for w in v.split("/")] if k == "widths" else type(DEFAULTS[k])(v)
    return out


def main() -> None:
    arch = sys.argv[1]
    x, ids, y, _ = load_tensors(tc.SPEC_NAME)
    splits = load_splits()
    tr, va = (select(ids, splits[k]) for k in ("train", "validation"))
    for cfg in sys.argv[2:]:
        seed_everything(tc.SEED)
        args = argparse.Namespace(arch=arch, **parse(cfg))
        with contextlib.redirect_stdout(io.StringIO()):
            _, best, curve = tc.train(args, x[tr], y[tr], x[va], y[va], 0.5, 0.25)
        tail = curve[-10:]
        print(f"{arch} [{cfg}]: best val AUC {best['auc']:.4f} at {best['epoch']}, mean of last 10 {sum(c['valAuc'] for c in tail) / len(tail):.4f}, final loss {curve[-1]['loss']:.3f}", flush=True)


if __name__ == "__main__":
    main()
