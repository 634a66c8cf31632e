"""Builds (does not train: no ground-truth masks exist) the two lesion segmenters as ONNX graphs.

Both take the segmenter input spec (RGB in 0..1, NCHW, 128x128) and output `mask`, N x 1 x H x W,
a per-pixel lesion probability in 0..1.

- dg-seg-stats: lesion is darker and more saturated than skin. score = z(darkness) + w * z(chroma)
  - a mild centre prior (dermoscopy centres the lesion; the scope's dark vignette sits in the corners),
  Gaussian-smoothed, thresholded per image by the Ridler-Calvard (ISODATA) iteration, then a soft sigmoid.
- dg-seg-skin-distance: skin colour = per-channel median of the image border; per-pixel colour distance
  to it (darkness weighted up), smoothed; threshold halfway between the border's typical distance and the
  95th percentile distance of the image; soft sigmoid.

Usage: /usr/bin/python3 training/build_segmenters.py [out_root=plugins]
"""
import json
import os
import sys

import numpy as np

from common import ROOT
from onnx_graph import Graph

with open(os.path.join(ROOT, "training/specs/segmenter-input.json")) as f:
    SPEC = json.load(f)
H, W = SPEC["height"], SPEC["width"]

# Tuned by eye on overlays of real images (training/.cache/overlays), not on labels: there are none.
STATS = {"chroma_weight": 0.3, "centre_prior": 1.6, "sigma": 3.0, "softness": 0.12, "opening": 11}
SKIN = {"border": 6, "dark_weight": 1.5, "sigma": 3.0, "quantile": 0.95, "cut": 0.35, "softness": 0.12, "opening": 15}


def radius() -> np.ndarray:
    """Distance from the image centre, 1 at the middle of each edge, sqrt(2) in the corners."""
    yy, xx = np.meshgrid(np.linspace(-1, 1, H), np.linspace(-1, 1, W), indexing="ij")
    return np.sqrt(xx ** 2 + yy ** 2)


def in_view() -> np.ndarray:
    """Pixels whose statistics are trusted: the corners (r > 1.1) hold the dermoscope's dark vignette."""
    return (radius() <= 1.1).astype(np.float32).reshape(1, 1, H, W)


def corner_fade() -> np.ndarray:
    """Multiplies the output probability: 1 up to r = 1.1, 0 from r = 1.3 (only the corners fade)."""
    return np.clip((1.3 - radius()) / 0.2, 0.0, 1.0).astype(np.float32).reshape(1, 1, H, W)


def channels(g: Graph, x: str):
    return g.op("Split", [x, g.const(np.array([1, 1, 1], dtype=np.int64), "split", np.int64)], outputs=3, axis=1)


def luminance(g: Graph, x: str) -> str:
    return g.op("Conv", [x, g.const(np.array([0.299, 0.587, 0.114], dtype=np.float32).reshape(1, 3, 1, 1), "luma")])


def zscore(g: Graph, v: str) -> str:
    m = g.mean_hw(v)
    d = g.sub(v, m)
    sd = g.op("Sqrt", [g.add(g.mean_hw(g.mul(d, d)), g.scalar(1e-6))])
    return g.div(d, sd)


def soft_mask(g: Graph, score: str, threshold: str, lo: str, hi: str, softness: float, fade: str, opening: int) -> str:
    """sigmoid((score - t) / tau) * fade, tau a fraction of the spread between the two sides, so the edge
    is soft in proportion to the image's own contrast; then a grey-level opening removes specks and the
    thin dark arcs of the dermoscope's vignette along the edges."""
    tau = g.add(g.mul(g.op("Abs", [g.sub(hi, lo)]), g.scalar(softness)), g.scalar(1e-4))
    prob = g.mul(g.op("Sigmoid", [g.div(g.sub(score, threshold), tau)]), fade)
    # a light blur after the opening rounds the square window's corners off the contour
    return g.gaussian_blur(g.opening(prob, opening), 1.5, out_name="mask")


def build_stats(path: str) -> None:
    g = Graph()
    r, gg, b = channels(g, "input")
    darkness = g.sub(g.scalar(1.0), luminance(g, "input"))
    chroma = g.sub(g.op("Max", [r, gg, b]), g.op("Min", [r, gg, b]))
    score = g.add(zscore(g, darkness), g.mul(zscore(g, chroma), g.scalar(STATS["chroma_weight"])))
    yy, xx = np.meshgrid(np.linspace(-1, 1, H), np.linspace(-1, 1, W), indexing="ij")
    prior = (-(STATS["centre_prior"]) * (xx ** 2 + yy ** 2)).astype(np.float32).reshape(1, 1, H, W)
    score = g.add(score, g.const(prior, "centre_prior"))
    smooth = g.gaussian_blur(score, STATS["sigma"])
    t, lo, hi = g.isodata_threshold(smooth, weight=g.const(in_view(), "in_view"))
    soft_mask(g, smooth, t, lo, hi, STATS["softness"], g.const(corner_fade(), "corner_fade"), STATS["opening"])
    g.save(path, "input", "mask", H, W, "dg-seg-stats: darkness + chroma z-scores, centre prior, Gaussian smoothing, ISODATA threshold, soft sigmoid mask")


def build_skin_distance(path: str) -> None:
    g = Graph()
    bw = SKIN["border"]
    ring = np.zeros((H, W), dtype=bool)
    ring[:bw, :] = ring[-bw:, :] = ring[:, :bw] = ring[:, -bw:] = True
    ring &= in_view()[0, 0] > 0  # the edges' middles: skin, not the vignette in the corners
    ring_idx = np.flatnonzero(ring).astype(np.int64)
    flat = g.op("Reshape", ["input", g.const(np.array([0, 3, H * W], dtype=np.int64), "shape", np.int64)])
    border = g.op("Gather", [flat, g.const(ring_idx, "ring", np.int64)], axis=2)  # N x 3 x B
    half = g.const(np.array([len(ring_idx) // 2], dtype=np.int64), "k", np.int64)
    top, _ = g.op("TopK", [border, half], outputs=2, axis=2, largest=1, sorted=1)
    skin = g.op("Unsqueeze", [g.op("ReduceMin", [top], axes=[2], keepdims=1), g.const(np.array([3], dtype=np.int64), "ax", np.int64)])  # N x 3 x 1 x 1: median
    diff = g.sub("input", skin)
    # darker than skin counts more than lighter: weight the luminance drop on top of the colour distance
    dark = g.op("Relu", [g.sub(luminance(g, skin), luminance(g, "input"))])
    dist2 = g.reduce_sum(g.mul(diff, diff), [1])
    dist = g.add(g.op("Sqrt", [g.add(dist2, g.scalar(1e-8))]), g.mul(dark, g.scalar(SKIN["dark_weight"])))
    smooth = g.gaussian_blur(dist, SKIN["sigma"])
    flat_d = g.op("Reshape", [smooth, g.const(np.array([0, H * W], dtype=np.int64), "shape", np.int64)])
    k_hi = g.const(np.array([int(round(H * W * (1 - SKIN["quantile"])))], dtype=np.int64), "k", np.int64)
    top_d, _ = g.op("TopK", [flat_d, k_hi], outputs=2, axis=1, largest=1, sorted=1)
    q_hi = g.op("Reshape", [g.op("ReduceMin", [top_d], axes=[1], keepdims=1), g.const(np.array([-1, 1, 1, 1], dtype=np.int64), "shape", np.int64)])
    ring_d = g.op("Gather", [flat_d, g.const(ring_idx, "ring", np.int64)], axis=1)
    top_r, _ = g.op("TopK", [ring_d, half], outputs=2, axis=1, largest=1, sorted=1)
    skin_d = g.op("Reshape", [g.op("ReduceMin", [top_r], axes=[1], keepdims=1), g.const(np.array([-1, 1, 1, 1], dtype=np.int64), "shape", np.int64)])
    t = g.add(skin_d, g.mul(g.sub(q_hi, skin_d), g.scalar(SKIN["cut"])))
    soft_mask(g, smooth, t, skin_d, q_hi, SKIN["softness"], g.const(corner_fade(), "corner_fade"), SKIN["opening"])
    g.save(path, "input", "mask", H, W, "dg-seg-skin-distance: colour distance to the border skin median, darkness weighted, Gaussian smoothing, threshold halfway from skin to the 95th percentile, soft sigmoid mask")


def main() -> None:
    out_root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "plugins")
    for name, build in (("dg-seg-stats", build_stats), ("dg-seg-skin-distance", build_skin_distance)):
        os.makedirs(os.path.join(out_root, name), exist_ok=True)
        build(os.path.join(out_root, name, "model.onnx"))
        print("built", name)


if __name__ == "__main__":
    main()
