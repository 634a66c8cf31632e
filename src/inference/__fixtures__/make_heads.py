"""Builds the small ONNX classifiers and PyTorch-autograd Grad-CAM references that
src/inference/gradcam.test.ts and score-cam.test.ts check against.

    /usr/bin/python3 src/inference/__fixtures__/make_heads.py      (Debian python3-torch 1.13, python3-onnx)

Each model: input [N, 3, 16, 16] -> conv backbone -> `features` [N, 4, 4, 4] (an output) -> head -> `logits`.
Heads:
- gap-linear : mean over H, W -> Linear(4, 3)                          (ReduceMean + Gemm)
- gap-mlp    : AdaptiveAvgPool2d(1) -> Flatten -> Linear -> Hardswish -> Dropout -> Linear
               (GlobalAveragePool, Flatten, Gemm, HardSwish: MobileNetV3's classifier)
- gap-mix    : mean(keepdim) -> reshape(1, -1) -> Linear -> BatchNorm1d -> LeakyReLU -> Linear -> Sigmoid
               -> * 2 - 0.5 -> Linear(no bias) via matmul -> Hardsigmoid -> Tanh -> clamp -> Linear
               (ReduceMean, Reshape, Gemm, BatchNormalization, LeakyRelu, Sigmoid, Mul, Sub, MatMul,
               Add, HardSigmoid, Tanh, Clip): every op the TypeScript head supports
- gmp-linear : AdaptiveMaxPool2d(1) -> Flatten -> Linear  (GlobalMaxPool: not differentiable there -> Score-CAM)
For each, <name>.json holds the input, the features, d logit_c / d features by autograd, alpha, cam
(ReLU(sum alpha_k A_k), 4 x 4) for c = argmax and for c = 1, with base64 little-endian float32 arrays.
gmp-linear.json also holds the Score-CAM reference (pytorch-grad-cam's algorithm) for c = argmax.
"""
import base64
import json
import os

import onnx
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20260521)


class Net(nn.Module):
    def __init__(self, head: nn.Module):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 4, 3, 2, 1), nn.ReLU())
        self.head = head

    def forward(self, x):
        f = self.backbone(x)
        return self.head(f), f


class GapLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, f):
        return self.fc(f.mean(dim=(2, 3)))


def gap_mlp():
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 16), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(16, 3))


class GapMix(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 8)
        self.w3 = nn.Parameter(torch.randn(8, 6))
        self.b3 = nn.Parameter(torch.randn(6))
        self.fc4 = nn.Linear(6, 3)
        with torch.no_grad():  # non-trivial running statistics
            self.bn.running_mean.copy_(torch.randn(8) * 0.1)
            self.bn.running_var.copy_(torch.rand(8) + 0.5)
            self.bn.weight.copy_(torch.rand(8) + 0.5)
            self.bn.bias.copy_(torch.randn(8) * 0.1)

    def forward(self, f):
        x = f.mean(dim=(2, 3), keepdim=True).reshape(1, -1)
        x = F.leaky_relu(self.bn(self.fc1(x)), 0.1)
        x = torch.sigmoid(self.fc2(x)) * 2 - 0.5
        x = torch.matmul(x, self.w3) + self.b3
        x = torch.tanh(F.hardsigmoid(x) * 3)
        x = torch.clamp(x, -0.9, 0.95)
        return self.fc4(x)


def gmp_linear():
    return nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(4, 3))


def b64(t):
    return base64.b64encode(t.detach().contiguous().numpy().astype("<f4").tobytes()).decode()


def grad_cam(model, x, target):
    logits, features = model(x)
    features.retain_grad()
    model.zero_grad()
    logits[0, target].backward()
    grads = features.grad[0]
    alpha = grads.mean(dim=(1, 2))
    cam = torch.relu((alpha[:, None, None] * features[0]).sum(0))
    return {"targetClass": target, "gradients": b64(grads), "alpha": alpha.tolist(), "cam": cam.flatten().tolist()}


def score_cam(model, x, target):
    """pytorch-grad-cam's ScoreCAM: each activation channel, upsampled (bilinear, align_corners=False)
    and min-max scaled, masks the input; the weight is softmax(model(masked))[target]."""
    with torch.no_grad():
        logits, features = model(x)
        up = F.interpolate(features, size=x.shape[-2:], mode="bilinear", align_corners=False)[0]
        flat = up.reshape(up.shape[0], -1)
        lo, hi = flat.min(1).values, flat.max(1).values
        scaled = (up - lo[:, None, None]) / torch.where(hi > lo, hi - lo, torch.ones_like(hi))[:, None, None]
        scaled[hi <= lo] = 0
        masked = x * scaled[:, None]  # [C, 3, H, W]
        scores = torch.stack([torch.softmax(model(m[None])[0][0], 0)[target] for m in masked])
        cam = torch.relu((scores[:, None, None] * features[0]).sum(0))
    return {"targetClass": target, "weights": scores.tolist(), "cam": cam.flatten().tolist()}


def export(name, model, x):
    model.eval()
    path = os.path.join(HERE, f"{name}.onnx")
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits", "features"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}},
                      opset_version=17, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    logits, features = model(x)
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    ref = {"model": f"{name}.onnx", "ops": ops, "inputShape": list(x.shape), "input": b64(x[0]),
           "featureShape": list(features.shape[1:]), "features": b64(features[0]), "logits": logits[0].tolist(),
           "gradCam": [grad_cam(model, x, int(logits[0].argmax())), grad_cam(model, x, 1)]}
    if name == "gmp-linear":
        ref["scoreCam"] = score_cam(model, x, int(logits[0].argmax()))
    with open(os.path.join(HERE, f"{name}.json"), "w") as fh:
        json.dump(ref, fh, indent=1)
        fh.write("\n")
    print(name, ops, "logits", [round(v, 4) for v in logits[0].tolist()])


def main():
    x = torch.randn(1, 3, 16, 16)
    for name, head in [("gap-linear", GapLinear()), ("gap-mlp", gap_mlp()), ("gap-mix", GapMix()), ("gmp-linear", gmp_linear())]:
        export(name, Net(head), x)


if __name__ == "__main__":
    main()
