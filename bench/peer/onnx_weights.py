"""Reads the shipped ONNX classifier's weights into training/models.py's GapLinear, so the peer runs the same
network with the same weights as the server (and so its labels can be checked against the server's).

Debian has no python3-onnx, so this is a minimal protobuf reader: only the fields needed (ModelProto.graph,
GraphProto.node / initializer, NodeProto.input / op_type, TensorProto.dims / data_type / name / raw_data /
float_data). torch.onnx.export in eval mode folds each BatchNorm into the Conv before it, so every Conv
carries (weight, bias); the peer keeps its BatchNorm layers (the seeds run the unfused module) and sets them
to the identity with the folded bias, which computes the same function at the same cost as a trained model.
"""
import struct

import numpy as np
import torch
from torch import nn


def _varint(buf: bytes, i: int):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _fields(buf: bytes):
    """Yields (field number, wire type, value): an int for varints, bytes for everything else."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i : i + size], i + size
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def _tensor(buf: bytes):
    dims, name, raw, floats, dtype = [], "", None, [], 1
    for field, wire, value in _fields(buf):
        if field == 1:  # dims: packed or one varint per entry
            if wire == 2:
                j = 0
                while j < len(value):
                    d, j = _varint(value, j)
                    dims.append(d)
            else:
                dims.append(value)
        elif field == 2:
            dtype = value
        elif field == 4:
            floats.extend(struct.unpack(f"<{len(value) // 4}f", value) if wire == 2 else struct.unpack("<f", value))
        elif field == 8:
            name = value.decode()
        elif field == 9:
            raw = value
    if dtype != 1:
        raise ValueError(f"initializer {name}: data type {dtype}, expected float32")
    array = np.frombuffer(raw, dtype="<f4") if raw is not None else np.asarray(floats, dtype="<f4")
    return name, array.reshape(dims).copy()


def read_graph(path: str):
    """(nodes as (op_type, inputs) in graph order, initializers by name)."""
    with open(path, "rb") as f:
        model = f.read()
    graph = next(v for field, _, v in _fields(model) if field == 7)
    nodes, inits = [], {}
    for field, _, value in _fields(graph):
        if field == 1:
            op, inputs = "", []
            for f2, _, v2 in _fields(value):
                if f2 == 1:
                    inputs.append(v2.decode())
                elif f2 == 4:
                    op = v2.decode()
            nodes.append((op, inputs))
        elif field == 5:
            name, array = _tensor(value)
            inits[name] = array
    return nodes, inits


def onnx_widths(path: str):
    """The backbone's four stage widths: the output channels of every second Conv (two convs per stage)."""
    nodes, inits = read_graph(path)
    outs = [inits[i[1]].shape[0] for op, i in nodes if op == "Conv"]
    return tuple(outs[1::2])


def load_onnx_into(model: nn.Module, path: str) -> None:
    """Copies the ONNX Conv and Gemm initializers, in graph order, into the module's convs and its fc layer."""
    nodes, inits = read_graph(path)
    convs = [(inits[i[1]], inits[i[2]]) for op, i in nodes if op == "Conv"]
    gemms = [(inits[i[1]], inits[i[2]]) for op, i in nodes if op == "Gemm"]
    blocks = [m for m in model.modules() if isinstance(m, nn.Sequential) and isinstance(m[0], nn.Conv2d)]
    if len(convs) != len(blocks) or len(gemms) != 1:
        raise ValueError(f"{path}: {len(convs)} Conv / {len(gemms)} Gemm nodes for {len(blocks)} conv blocks")
    with torch.no_grad():
        for (weight, bias), (conv, bn, _relu) in zip(convs, blocks):
            if tuple(weight.shape) != tuple(conv.weight.shape):
                raise ValueError(f"conv shape {weight.shape} != {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(weight))
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(bias))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)  # sqrt(var + eps) == 1: the identity
        weight, bias = gemms[0]
        if tuple(weight.shape) != tuple(model.fc.weight.shape):
            raise ValueError(f"fc shape {weight.shape} != {tuple(model.fc.weight.shape)}")
        model.fc.weight.copy_(torch.from_numpy(weight))
        model.fc.bias.copy_(torch.from_numpy(bias))
