"""Hand-crafted ABCD-rule features of a dermoscopy image (asymmetry, border, colour, diameter), numpy only,
from the same 128 x 128 tensors the networks see (de-normalised to 0..1 RGB).

Lesion mask: grey image blurred (Gaussian, sigma 2), Otsu threshold, darker side; holes filled; the
connected piece with the most pixels in the central half of the image is the lesion (the dark
dermoscope vignette and corner shadows touch the edges, not the centre).
"""
from collections import deque

import numpy as np

FEATURES = ["asymmetryMajor", "asymmetryMinor", "compactness", "radialCv", "borderGradient",
            "colourStdR", "colourStdG", "colourStdB", "lesionSkinContrast", "areaFraction", "eccentricity"]


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur with edge replication."""
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(img, r, mode="edge")
    rows = sum(k[i] * pad[:, i:i + img.shape[1]] for i in range(2 * r + 1))
    return sum(k[i] * rows[i:i + img.shape[0], :] for i in range(2 * r + 1))


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of values in [0, 1]: the bin edge maximising the between-class variance."""
    hist, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    p = hist.astype(np.float64) / hist.sum()
    w0 = np.cumsum(p)
    mu = np.cumsum(p * (edges[:-1] + edges[1:]) / 2)
    w1 = 1.0 - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * w0 - mu) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = -1
    return float(edges[int(np.argmax(between)) + 1])


def components(mask: np.ndarray) -> np.ndarray:
    """4-connected component labels (0 = background, 1.. = pieces), by breadth-first search."""
    labels = np.zeros(mask.shape, dtype=np.int32)
    h, w = mask.shape
    n = 0
    for sy, sx in zip(*np.nonzero(mask)):
        if labels[sy, sx]:
            continue
        n += 1
        labels[sy, sx] = n
        queue = deque([(sy, sx)])
        while queue:
            y, x = queue.popleft()
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not labels[ny, nx]:
                    labels[ny, nx] = n
                    queue.append((ny, nx))
    return labels


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Background pieces that do not touch the image edge become lesion."""
    bg = components(~mask)
    edge = set(np.unique(np.concatenate([bg[0], bg[-1], bg[:, 0], bg[:, -1]]))) - {0}
    return mask | ~np.isin(bg, list(edge))


def lesion_mask(rgb: np.ndarray) -> np.ndarray:
    """rgb: H x W x 3 in 0..1. The central dark piece (see the module doc)."""
    grey = gaussian_blur(rgb.mean(axis=2), 2.0)
    dark = grey < otsu_threshold(grey)
    labels = components(dark)
    h, w = dark.shape
    centre = labels[h // 4:3 * h // 4, w // 4:3 * w // 4]
    counts = np.bincount(centre.ravel(), minlength=labels.max() + 1)
    counts[0] = 0
    if counts.max() == 0:  # nothing dark in the centre: the largest piece anywhere
        counts = np.bincount(labels.ravel())
        counts[0] = 0
    return fill_holes(labels == int(np.argmax(counts))) if counts.max() else np.ones_like(dark)


def asymmetry(mask: np.ndarray) -> tuple:
    """Share of the lesion that does not overlap its mirror image about each principal axis
    (major, minor), and the eccentricity sqrt(1 - minor/major eigenvalue)."""
    ys, xs = np.nonzero(mask)
    pts = np.stack([xs, ys], 1).astype(np.float64)
    c = pts.mean(0)
    evals, evecs = np.linalg.eigh(np.cov((pts - c).T) + 1e-9 * np.eye(2))
    out = []
    for axis in (evecs[:, 1], evecs[:, 0]):  # mirror about the major axis, then the minor one
        d = pts - c
        along = d @ axis
        mirrored = c + 2 * np.outer(along, axis) - d
        mx, my = np.rint(mirrored[:, 0]).astype(int), np.rint(mirrored[:, 1]).astype(int)
        inside = (mx >= 0) & (mx < mask.shape[1]) & (my >= 0) & (my < mask.shape[0])
        hit = np.zeros(len(pts), dtype=bool)
        hit[inside] = mask[my[inside], mx[inside]]
        out.append(1.0 - hit.mean())
    ecc = float(np.sqrt(max(0.0, 1.0 - evals[0] / max(evals[1], 1e-12))))
    return out[0], out[1], ecc


def boundary(mask: np.ndarray) -> np.ndarray:
    """Lesion pixels with a 4-neighbour outside the lesion (or on the image edge)."""
    p = np.pad(mask, 1, constant_values=False)
    inner = p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return mask & ~inner


def features(rgb: np.ndarray) -> list:
    """The FEATURES of one H x W x 3 image in 0..1."""
    mask = lesion_mask(rgb)
    area = float(mask.sum())
    edge = boundary(mask)
    perimeter = float(edge.sum())
    a_major, a_minor, ecc = asymmetry(mask)
    ys, xs = np.nonzero(edge)
    cy, cx = np.nonzero(mask)
    r = np.hypot(ys - cy.mean(), xs - cx.mean())
    grey = gaussian_blur(rgb.mean(axis=2), 1.0)
    gy, gx = np.gradient(grey)
    grad = np.hypot(gy, gx)
    inside, outside = rgb[mask], rgb[~mask]
    skin = outside.mean() if len(outside) else inside.mean()
    return [a_major, a_minor, perimeter ** 2 / (4 * np.pi * area), float(r.std() / max(r.mean(), 1e-9)),
            float(grad[edge].mean() / max(grad.mean(), 1e-9)),
            *[float(v) for v in inside.std(axis=0)], float(skin - inside.mean()), area / mask.size, ecc]


def feature_matrix(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    """x: N x 3 x H x W normalised tensors -> N x len(FEATURES)."""
    return np.array([features(np.clip(img.transpose(1, 2, 0) * std + mean, 0, 1)) for img in x], dtype=np.float64)
