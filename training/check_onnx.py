"""Checks every shipped ONNX file: valid, opset >= 13, weights inside the file, a dynamic batch axis 0
on every input and output, under 20 MB, and names that match the manifest.

Usage: /usr/bin/python3 training/check_onnx.py   (exit status 1 on any failure)
"""
import json
import os
import sys

import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def check(folder: str) -> list[str]:
    problems = []
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    path = os.path.join(folder, manifest["modelFile"])
    model = onnx.load(path, load_external_data=False)
    onnx.checker.check_model(model, full_check=True)  # the in-memory proto: check_model(path) rewrites the file with inferred shapes
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 13:
        problems.append(f"opset {opset} < 13")
    external = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        problems.append(f"external weights: {external[:3]}")
    size = os.path.getsize(path)
    if size >= 20 * 1024 * 1024:
        problems.append(f"{size} bytes >= 20 MB")
    for v in list(model.graph.input) + list(model.graph.output):
        d0 = v.type.tensor_type.shape.dim[0]
        if not d0.dim_param or d0.dim_value:
            problems.append(f"{v.name}: axis 0 is not dynamic ({d0})")
    inputs = [i.name for i in model.graph.input]
    outputs = sorted(o.name for o in model.graph.output)
    if inputs != [manifest["input"]["name"]]:
        problems.append(f"inputs {inputs} != manifest {manifest['input']['name']}")
    if outputs != sorted(o["name"] for o in manifest["outputs"]):
        problems.append(f"outputs {outputs} != manifest")
    shapes = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in list(model.graph.input) + list(model.graph.output)}
    print(f"{manifest['name']}: opset {opset}, {size / 1024:.0f} KiB, {shapes}, ops {sorted({n.op_type for n in model.graph.node})}")
    return problems


def main() -> None:
    plugins = os.path.join(ROOT, "plugins")
    failed = False
    for name in sorted(os.listdir(plugins)):
        if os.path.exists(os.path.join(plugins, name, "manifest.json")):
            for p in check(os.path.join(plugins, name)):
                print(f"  FAIL {name}: {p}")
                failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
