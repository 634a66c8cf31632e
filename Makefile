# Reproduces the shipped model plugins from the dataset copy in datasets/isic-uda1:
# export tensors (the project's own preprocessing) -> cross-validate -> train -> export ONNX -> build segmenters
# -> golden cases, latency, metrics, model cards, manifests with sha256 -> evaluate.
PYTHON ?= /usr/bin/python3
NODE ?= node

# PyTorch (Debian's CPU build) chooses its kernels by the CPU's instruction set when it starts, and
# kernels for different instruction sets round differently, so the same seeds give different weights on
# an AVX-512 machine than on an AVX2 one. Pinned to AVX2 (ATen's own kernels and oneDNN's) for every
# step, so any x86-64 machine with AVX2 trains the same bits; training/common.py refuses to train
# without these two values. They must be in the environment before Python imports torch.
export ATEN_CPU_CAPABILITY = avx2
export ONEDNN_MAX_CPU_ISA = AVX2

.PHONY: train-models build tensors splits cv classifiers segmenters package evaluate check-onnx

# The two classifier recipes: cross-validated by cv.py and trained on the whole development pool
# (train + validation) with the same arguments, so the CV figures describe the shipped recipe.
GAP_RECIPE = --arch gap-linear --name dg-gap-classifier
MLP_RECIPE = --arch gap-mlp --name dg-mlp-classifier --dropout 0.5

train-models: build tensors cv classifiers segmenters package check-onnx evaluate

build:
	npm run build

tensors: build
	$(NODE) dist/scripts/export-tensors.js --spec training/specs/classifier-input.json
	$(NODE) dist/scripts/export-tensors.js --spec training/specs/segmenter-input.json

# The committed training/splits.json is the split; this rewrites it identically (fixed seed).
splits:
	$(PYTHON) training/make_splits.py

# repeated stratified k-fold CV on the development pool (test split untouched): out-of-fold logits,
# then the report (recipes, ABCD features, temperatures, decision thresholds, reliability diagrams, docs/models.md table);
# `package` writes each classifier's threshold from training/cv/results.json into its manifest
cv: tensors
	cd training && $(PYTHON) -m unittest discover -p 'test_*.py'
	cd training && $(PYTHON) cv.py $(GAP_RECIPE)
	cd training && $(PYTHON) cv.py $(MLP_RECIPE)
	cd training && $(PYTHON) cv_report.py

classifiers: cv
	cd training && $(PYTHON) train_classifier.py $(GAP_RECIPE) --pool dev --calibrate
	cd training && $(PYTHON) train_classifier.py $(MLP_RECIPE) --pool dev --calibrate

segmenters:
	cd training && $(PYTHON) build_segmenters.py

package: build
	$(NODE) dist/scripts/package-plugins.js

check-onnx:
	$(PYTHON) training/check_onnx.py

evaluate: build
	$(NODE) dist/scripts/evaluate.js
