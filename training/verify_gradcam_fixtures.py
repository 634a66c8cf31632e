"""Sanity checks of test/fixtures/gradcam/*: recomputes alpha and the CAM from the stored features and
gradients, and for the GAP + Linear head checks dy_c/dA = W[c,k] / (H*W) from the ONNX file's weights.

Usage: /usr/bin/python3 training/verify_gradcam_fixtures.py
"""
import base64
import glob
import json
import os

import numpy as np
import onnx
from onnx import numpy_helper

from common import ROOT


def f32(b64: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<f4").reshape(shape)


def main() -> None:
    for path in sorted(glob.glob(os.path.join(ROOT, "test/fixtures/gradcam/*/*.json"))):
        plugin = os.path.basename(os.path.dirname(path))
        fx = json.load(open(path))
        c, h, w = fx["featureShape"]
        A = f32(fx["features"], (c, h, w)).astype(np.float64)
        G = f32(fx["gradients"], (c, h, w)).astype(np.float64)
        alpha = G.mean(axis=(1, 2))
        cam = np.maximum((alpha[:, None, None] * A).sum(0), 0).ravel()
        assert np.allclose(alpha, fx["alpha"], atol=1e-7), path
        assert np.allclose(cam, fx["cam"], rtol=1e-5, atol=1e-6), path
        lo, hi = cam.min(), cam.max()
        norm = (cam - lo) / (hi - lo) if hi > lo else np.zeros_like(cam)
        assert np.allclose(norm, fx["camNormalized"], atol=1e-5), path
        assert np.allclose(G, G[:, :1, :1], atol=1e-9), "a GAP head gives the same gradient at every cell"
        model = onnx.load(os.path.join(ROOT, "plugins", plugin, "model.onnx"))
        weights = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
        gemms = [n for n in model.graph.node if n.op_type == "Gemm"]  # PyTorch Linear: transB = 1
        k = fx["targetClass"]
        if len(gemms) == 1:
            expected = weights[gemms[0].input[1]][k] / (h * w)
        else:
            # backpropagate by hand through Gemm -> HardSwish -> Gemm from the ONNX file's weights
            W1, b1 = weights[gemms[0].input[1]], weights[gemms[0].input[2]]
            W2 = weights[gemms[1].input[1]]
            z = W1 @ A.mean(axis=(1, 2)) + b1
            dhs = np.where(z < -3, 0.0, np.where(z > 3, 1.0, (2 * z + 3) / 6))
            expected = ((W2[k] * dhs) @ W1) / (h * w)
        assert np.allclose(alpha, expected, rtol=1e-4, atol=1e-8), (path, np.abs(alpha - expected).max())
        print(f"ok {plugin}/{fx['imageId']}: class {fx['targetClass']}, cam max {cam.max():.4f}")


if __name__ == "__main__":
    main()
