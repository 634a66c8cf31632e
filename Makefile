# Reproduces the shipped model plugins from the dataset copy in datasets/isic-uda1:
# export tensors (the project's own preprocessing) -> train -> export ONNX -> build segmenters
# -> golden cases, latency, metrics, model cards, manifests with sha256 -> evaluate.
PYTHON ?= /usr/bin/python3
NODE ?= node

.PHONY: train-models build tensors splits classifiers segmenters package evaluate check-onnx

train-models: build tensors classifiers segmenters package check-onnx evaluate

build:
	npm run build

tensors: build
	$(NODE) dist/scripts/export-tensors.js --spec training/specs/classifier-input.json
	$(NODE) dist/scripts/export-tensors.js --spec training/specs/segmenter-input.json

# The committed training/splits.json is the split; this rewrites it identically (fixed seed).
splits:
	$(PYTHON) training/make_splits.py

classifiers: tensors
	cd training && $(PYTHON) train_classifier.py --arch gap-linear --name dg-gap-classifier
	cd training && $(PYTHON) train_classifier.py --arch gap-mlp --name dg-mlp-classifier --dropout 0.5

segmenters:
	cd training && $(PYTHON) build_segmenters.py

package: build
	$(NODE) dist/scripts/package-plugins.js

check-onnx:
	$(PYTHON) training/check_onnx.py

evaluate: build
	$(NODE) dist/scripts/evaluate.js dg-gap-classifier
	$(NODE) dist/scripts/evaluate.js dg-mlp-classifier
