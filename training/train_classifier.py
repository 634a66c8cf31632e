"""Trains one benign/malignant classifier from scratch on the exported tensors, exports it to ONNX
and writes the PyTorch reference fixtures (ONNX agreement and Grad-CAM) for the TypeScript tests.

Usage: /usr/bin/python3 training/train_classifier.py --arch gap-linear --name dg-gap-classifier [--pool dev --calibrate]
Reads training/.cache/classifier-input (scripts/export-tensors.ts) and training/splits.json (and, with
--calibrate, the temperature in training/cv/results.json). The test split is only predicted, for the log
line and the Grad-CAM fixtures' choice of images, never used to choose anything about the model.
Writes plugins/<name>/model.onnx, training/.cache/<name>.pt, training/.cache/<name>.train.json (curve)
and test/fixtures/gradcam/<name>/*.json.
"""
import argparse
import base64
import copy
import glob
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from common import ROOT, CACHE, load_splits, load_tensors, require_pinned_cpu_kernels, roc_auc, seed_everything, select, write_json
from models import ARCHS

SEED = int(os.environ.get("DG_SEED", "1234"))  # fixed; the override is for seed-variance experiments only
SPEC_NAME = os.environ.get("DG_SPEC", "classifier-input")  # the exported tensors to read (experiments only)


def augment(x: torch.Tensor, mean: float, std: float, gen: torch.Generator) -> torch.Tensor:
    """Dermoscopy has no up or down: flips and 90-degree turns; plus a small zoom/shift
    (reflect-padded) and small brightness / contrast / per-channel gain changes, done in pixel space."""
    n = x.shape[0]
    out = []
    for i in range(n):
        img = x[i]
        k = int(torch.randint(0, 4, (1,), generator=gen))
        img = torch.rot90(img, k, dims=(1, 2))
        if torch.rand(1, generator=gen) < 0.5:
            img = torch.flip(img, dims=(2,))
        out.append(img)
    x = torch.stack(out)
    # zoom in 1.0..1.25 and shift a little: an affine grid sampled with reflection.
    scale = 1.0 / (1.0 + 0.25 * torch.rand(n, generator=gen))
    shift = (torch.rand(n, 2, generator=gen) - 0.5) * 0.2
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scale
    theta[:, 1, 1] = scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    # brightness / contrast / gain in 0..1 pixel units, then back to the normalised space.
    p = x * std + mean
    contrast = 1.0 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.3
    brightness = (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.16
    gain = 1.0 + (torch.rand(n, 3, 1, 1, generator=gen) - 0.5) * 0.1
    m = p.mean(dim=(1, 2, 3), keepdim=True)
    p = ((p - m) * contrast + m + brightness) * gain
    return (p.clamp(0.0, 1.0) - mean) / std


@torch.no_grad()
def predict(model, x: torch.Tensor, batch: int = 64) -> np.ndarray:
    """P(malignant) for each tensor."""
    model.eval()
    probs = []
    for i in range(0, len(x), batch):
        logits, _ = model(x[i:i + batch])
        probs.append(torch.softmax(logits, dim=1)[:, 1])
    return torch.cat(probs).numpy()


DIHEDRAL = [(k, flip) for k in range(4) for flip in (False, True)]


@torch.no_grad()
def logit_diff(model, x: torch.Tensor, tta: bool = False, batch: int = 64) -> np.ndarray:
    """z = logit(malignant) - logit(benign) per tensor (P(malignant) = sigmoid(z)); with tta, the mean
    z over the 8 turns and flips of the square (test-time augmentation)."""
    model.eval()
    views = DIHEDRAL if tta else DIHEDRAL[:1]
    out = np.zeros(len(x))
    for k, flip in views:
        v = torch.rot90(x, k, dims=(2, 3))
        v = torch.flip(v, dims=(3,)) if flip else v
        for i in range(0, len(v), batch):
            logits, _ = model(v[i:i + batch])
            out[i:i + len(logits)] += (logits[:, 1] - logits[:, 0]).double().numpy()
    return out / len(views)


def train(args, x_train, y_train, x_val, y_val, mean, std, select_best: bool = True):
    """select_best: keep the epoch with the best validation AUC and stop early (the validation images
    then steer training); False: train all epochs and keep the last weights, the validation images
    (if any) only draw the curve."""
    model = ARCHS[args.arch](dropout=args.dropout, widths=tuple(args.widths))
    counts = torch.bincount(y_train, minlength=2).float()
    class_weights = counts.sum() / (2.0 * counts)  # inverse frequency: both classes weigh the same in the loss
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(x_train) / args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch)
    gen = torch.Generator().manual_seed(SEED)
    # exponential moving average of the weights (and BatchNorm statistics): a smoother model to
    # validate and keep than the last noisy SGD step on 192 images
    ema = ARCHS[args.arch](dropout=args.dropout, widths=tuple(args.widths)) if args.ema > 0 else model
    if args.ema > 0:
        ema.load_state_dict(model.state_dict())
    best = {"auc": -1.0, "epoch": -1, "state": None}
    curve = []
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=gen)
        total = 0.0
        for i in range(0, len(order), args.batch):
            idx = order[i:i + args.batch]
            xb = augment(x_train[idx], mean, std, gen)
            yb = y_train[idx]
            if args.mixup > 0:
                # mixup: convex blends of two images and their (weighted) losses, a strong regulariser for tiny data
                lam = float(np.random.beta(args.mixup, args.mixup))  # numpy is seeded in seed_everything
                perm = torch.randperm(len(idx), generator=gen)
                logits, _ = model(lam * xb + (1 - lam) * xb[perm])
                loss = lam * F.cross_entropy(logits, yb, weight=class_weights, label_smoothing=0.05) + (1 - lam) * F.cross_entropy(logits, yb[perm], weight=class_weights, label_smoothing=0.05)
            else:
                logits, _ = model(xb)
                loss = F.cross_entropy(logits, yb, weight=class_weights, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if args.ema > 0:
                with torch.no_grad():
                    for e, m in zip(ema.state_dict().values(), model.state_dict().values()):
                        if e.dtype.is_floating_point:
                            e.mul_(args.ema).add_(m, alpha=1 - args.ema)
                        else:
                            e.copy_(m)
            total += float(loss) * len(idx)
        val_auc = roc_auc(predict(ema, x_val), y_val.numpy()) if x_val is not None else None
        curve.append({"epoch": epoch, "loss": total / len(x_train), "valAuc": val_auc})
        print(f"epoch {epoch:3d} loss {total / len(x_train):.4f} val AUC {val_auc}", flush=True)
        if not select_best:
            best = {"auc": val_auc, "epoch": epoch, "state": ema.state_dict()}
        elif val_auc > best["auc"]:
            best = {"auc": val_auc, "epoch": epoch, "state": copy.deepcopy(ema.state_dict())}
        elif epoch - best["epoch"] >= args.patience:
            print(f"early stop: no better validation AUC since epoch {best['epoch']}")
            break
    model.load_state_dict(best["state"])
    model.eval()
    return model, best, curve


def fold_calibration(model, temperature: float, shift: float) -> None:
    """softmax of the calibrated logits as the network's own output: the last Linear layer's W and b
    divided by T, and +-shift/2 on the malignant / benign bias, so z = l1 - l0 becomes z / T + shift.
    Grad-CAM is unchanged but for a positive factor 1/T on alpha and the CAM (the bias has no gradient;
    same normalised map)."""
    head = model.fc if hasattr(model, "fc") else model.fc2
    with torch.no_grad():
        head.weight.div_(temperature)
        head.bias.div_(temperature)
        head.bias.add_(torch.tensor([-shift / 2, shift / 2]))


def cv_calibration(name: str) -> tuple:
    """(T, shift) that training/cv_report.py fitted on this recipe's out-of-fold logits."""
    with open(os.path.join(ROOT, "training/cv/results.json")) as f:
        cal = json.load(f)["classifiers"][name]["calibration"]
    return float(cal["temperature"]), float(cal["shift"])


def export_onnx(model, path: str, size: int) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    dummy = torch.zeros(1, 3, size, size)
    torch.onnx.export(
        model, dummy, path,
        input_names=["input"], output_names=["logits", "features"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}},
        opset_version=17, do_constant_folding=True,
    )


def b64(t: torch.Tensor) -> str:
    return base64.b64encode(t.detach().contiguous().numpy().astype("<f4").tobytes()).decode()


def gradcam_fixture(model, x: torch.Tensor, image_id: str) -> dict:
    """Grad-CAM with autograd: grad of the predicted class's logit w.r.t. the feature map A,
    alpha_k = spatial mean of the grad, cam = ReLU(sum_k alpha_k A_k), at feature-map resolution."""
    model.eval()
    inp = x.unsqueeze(0).clone().requires_grad_(False)
    logits, features = model(inp)
    features.retain_grad()
    target = int(torch.argmax(logits[0]))
    model.zero_grad()
    logits[0, target].backward()
    grads = features.grad[0]
    alpha = grads.mean(dim=(1, 2))
    cam = torch.relu((alpha[:, None, None] * features[0]).sum(dim=0)).detach()
    lo, hi = float(cam.min()), float(cam.max())
    norm = (cam - lo) / (hi - lo) if hi > lo else torch.zeros_like(cam)
    c, h, w = features.shape[1:]
    return {
        "imageId": image_id,
        "inputShape": list(inp.shape),
        "input": b64(inp[0]),
        "logits": logits[0].detach().tolist(),
        "probabilities": torch.softmax(logits[0], 0).detach().tolist(),
        "targetClass": target,
        "featureShape": [int(c), int(h), int(w)],
        "features": b64(features[0]),
        "gradients": b64(grads),
        "alpha": alpha.tolist(),
        "cam": cam.flatten().tolist(),
        "camNormalized": norm.flatten().tolist(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=sorted(ARCHS), required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--patience", type=int, default=30)
    ap.add_argument("--gradcam-images", type=int, default=3)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--ema", type=float, default=0.0, help="weight EMA decay per step; 0 = off")
    ap.add_argument("--mixup", type=float, default=0.0, help="Beta(a, a) mixup; 0 = off")
    ap.add_argument("--widths", type=int, nargs=4, default=[8, 16, 32, 48])
    ap.add_argument("--pool", choices=["train", "dev"], default="train",
                    help="train: fit on the train split, keep the epoch with the best validation AUC; dev: fit on "
                         "train + validation for all epochs and keep the last weights (the recipe training/cv.py measures)")
    ap.add_argument("--calibrate", action="store_true", help="fold the calibration (temperature, shift) of training/cv/results.json into the last layer")
    args = ap.parse_args()

    seed_everything(SEED)
    x, ids, y, spec = load_tensors(SPEC_NAME)
    mean, std = float(spec["mean"][0]), float(spec["std"][0])
    assert spec["mean"] == [mean] * 3 and spec["std"] == [std] * 3, "augment() assumes one mean/std for all channels"
    splits = load_splits()
    tr, va, te = (select(ids, splits[k]) for k in ("train", "validation", "test"))
    started = time.time()
    if args.pool == "dev":
        model, best, curve = train(args, x[tr + va], y[tr + va], None, None, mean, std, select_best=False)
    else:
        model, best, curve = train(args, x[tr], y[tr], x[va], y[va], mean, std)
    seconds = time.time() - started
    temperature, shift = cv_calibration(args.name) if args.calibrate else (1.0, 0.0)
    fold_calibration(model, temperature, shift)
    test_auc = roc_auc(predict(model, x[te]), y[te].numpy())
    print(f"kept epoch {best['epoch']} (val AUC {best['auc']}); temperature {temperature}, shift {shift}; test AUC (PyTorch) {test_auc:.4f}; {seconds:.0f} s")

    torch.save(model.state_dict(), os.path.join(CACHE, f"{args.name}.pt"))
    export_onnx(model, os.path.join(ROOT, "plugins", args.name, "model.onnx"), spec["width"])
    write_json(os.path.join(CACHE, f"{args.name}.train.json"), {
        "arch": args.arch, "seed": SEED, "hyperparameters": {k: v for k, v in vars(args).items() if k not in ("name", "pool", "calibrate", "patience", "gradcam_images")},
        "pool": args.pool, "trainImages": len(tr) + (len(va) if args.pool == "dev" else 0), "temperature": temperature, "shift": shift,
        "bestEpoch": best["epoch"], "bestValidationAuc": best["auc"], "trainSeconds": round(seconds, 1),
        "pytorchTestAuc": test_auc, "cpuKernels": require_pinned_cpu_kernels(), "curve": curve,
        "parameters": sum(p.numel() for p in model.parameters()),
    })
    fixture_dir = os.path.join(ROOT, "test/fixtures/gradcam", args.name)
    os.makedirs(fixture_dir, exist_ok=True)
    # test images that exercise both explained classes: the first predicted malignant, the first
    # predicted benign, then the first of each true label not yet taken
    for old in glob.glob(os.path.join(fixture_dir, "*.json")):
        os.remove(old)
    pred = predict(model, x[te]) >= 0.5
    picks = [next((i for i, p in zip(te, pred) if p), None), next((i for i, p in zip(te, pred) if not p), None)]
    picks += [next(i for i in te if int(y[i]) == lab and i not in picks) for lab in (1, 0)]
    chosen = [i for i in dict.fromkeys(picks) if i is not None][: args.gradcam_images]
    for i in chosen:
        write_json(os.path.join(fixture_dir, f"{ids[i]}.json"), gradcam_fixture(model, x[i], ids[i]))


if __name__ == "__main__":
    main()
