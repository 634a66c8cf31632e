"""Exports a realistic-size classifier with random weights to ONNX for the inference bench.

Usage: /usr/bin/python3 bench/heavy_classifier.py <mobilenet_v3_small|resnet18> <out.onnx>

torchvision's architecture with weights=None (seeded, so every run writes the same network) and a
2-class head: the bench measures the serving overhead around a model of this size, not accuracy.
Input 1x3x224x224 float32 "input" (batch axis dynamic), output "logits".
"""
import sys

import torch
import torchvision


def main() -> None:
    arch, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    builders = {"mobilenet_v3_small": torchvision.models.mobilenet_v3_small, "resnet18": torchvision.models.resnet18}
    if arch not in builders:
        raise SystemExit(f"unknown arch {arch}; one of {', '.join(builders)}")
    model = builders[arch](weights=None, num_classes=2).eval()
    with torch.no_grad():
        torch.onnx.export(
            model,
            torch.randn(1, 3, 224, 224),
            out,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=13,
        )


if __name__ == "__main__":
    main()
