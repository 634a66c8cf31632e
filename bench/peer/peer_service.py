"""The seeds' stack as a bench peer: FastAPI + PyTorch, "POST an image, get label, confidence and a Grad-CAM map".

Run with Debian's interpreter (python3-torch, python3-fastapi, python3-uvicorn, python3-multipart, python3-pil):
    /usr/bin/python3 -m uvicorn --app-dir bench/peer peer_service:app --host 127.0.0.1 --port 8765

POST /predict?explain=true|false, multipart field `file`: decode with PIL, resize to 128x128 (fill) and normalise
per training/specs/classifier-input.json, run training/models.py GapLinear (the shipped dg-gap-classifier's
architecture, with its weights read from plugins/dg-gap-classifier/model.onnx), answer
{label, confidence, probabilities, gradcam}: gradcam is the Grad-CAM map of the predicted class (forward and
backward hooks on the backbone output) upsampled to the image size, as a base64 PNG; null with explain=false.
"""
import base64
import io
import json
import os
import sys
import threading

import fastapi
import numpy as np
import torch
import torch.nn.functional as F
import uvicorn
from fastapi import FastAPI, File, HTTPException, UploadFile
from PIL import Image, ImageOps

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "training"))
from models import GapLinear  # noqa: E402  (training/ is not a package)
from onnx_weights import load_onnx_into, onnx_widths  # noqa: E402

PLUGIN = os.path.join(ROOT, "plugins", "dg-gap-classifier")
with open(os.path.join(PLUGIN, "manifest.json")) as f:
    MANIFEST = json.load(f)
SPEC = MANIFEST["input"]
LABELS = MANIFEST["labels"]

# PEER_TORCH_THREADS unset: PyTorch's own default (one thread per core), as a seed would run it.
if os.environ.get("PEER_TORCH_THREADS"):
    torch.set_num_threads(int(os.environ["PEER_TORCH_THREADS"]))

# The shipped file's stage widths (8/16/32/48 for dg-gap-classifier 1.0.0), read from its Conv shapes.
model = GapLinear(num_classes=len(LABELS), widths=onnx_widths(os.path.join(PLUGIN, MANIFEST["modelFile"])))
load_onnx_into(model, os.path.join(PLUGIN, MANIFEST["modelFile"]))
model.eval()

# (x * scale - mean) / std, channel-wise, as the server's preprocess does.
MEAN = torch.tensor(SPEC["mean"]).view(3, 1, 1)
STD = torch.tensor(SPEC["std"]).view(3, 1, 1)

app = FastAPI()


def preprocess(data: bytes):
    try:
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    except Exception as e:  # PIL raises several types for bad input
        raise HTTPException(status_code=400, detail=f"not an image: {e}") from None
    resized = image.resize((SPEC["width"], SPEC["height"]), Image.LANCZOS)  # "fill": no aspect kept, as sharp's
    x = torch.from_numpy(np.asarray(resized, dtype=np.float32)).permute(2, 0, 1) * SPEC["scale"]
    return ((x - MEAN) / STD).unsqueeze(0), image.size


# Hooks on the backbone output, registered once: requests run on several threads at once, so each keeps its own
# activations and gradients (registering per request would let one request's hook fire on another's forward).
saved = threading.local()


def keep_activations(_module, _inputs, output):
    if output.requires_grad:  # only on Grad-CAM's forward, not under inference_mode
        saved.activations = output
        output.register_hook(keep_gradients)


def keep_gradients(grad):
    saved.gradients = grad


model.backbone.register_forward_hook(keep_activations)


def grad_cam(x: torch.Tensor, size):
    """Grad-CAM on the backbone output: alpha_k = spatial mean of d logit[target] / d A_k, cam = ReLU(sum alpha_k A_k)."""
    logits, _ = model(x)
    target = int(logits[0].argmax())  # the predicted class
    logits[0, target].backward()  # parameter .grad is accumulated and never read; the hook keeps d/dA
    with torch.no_grad():
        a, g = saved.activations, saved.gradients
        cam = F.relu((g.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1, keepdim=True))
        cam = F.interpolate(cam, size=(size[1], size[0]), mode="bilinear", align_corners=False)[0, 0]
        cam = cam / cam.max() if float(cam.max()) > 0 else cam
        png = io.BytesIO()
        Image.fromarray((cam.numpy() * 255).astype(np.uint8), mode="L").save(png, format="PNG")
    return logits.detach(), base64.b64encode(png.getvalue()).decode()


@app.post("/predict")
def predict(file: UploadFile = File(...), explain: bool = True):
    # A plain def: FastAPI runs it on its thread pool, so concurrent requests overlap (PyTorch frees the GIL).
    x, size = preprocess(file.file.read())
    if explain:
        logits, heatmap = grad_cam(x, size)
    else:
        with torch.inference_mode():
            logits, _ = model(x)
        heatmap = None
    probs = torch.softmax(logits[0], dim=0)
    best = int(probs.argmax())
    return {
        "label": LABELS[best],
        "confidence": float(probs[best]),
        "probabilities": {label: float(p) for label, p in zip(LABELS, probs)},
        "gradcam": heatmap,
        "width": size[0],
        "height": size[1],
    }


@app.get("/health")
def health():
    versions = f"python {sys.version.split()[0]}, torch {torch.__version__}, fastapi {fastapi.__version__}, uvicorn {uvicorn.__version__}"
    return {"ok": True, "threads": torch.get_num_threads(), "versions": versions}
