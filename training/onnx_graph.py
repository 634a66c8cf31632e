"""A small helper for writing ONNX graphs by hand with onnx.helper (used by the built segmenters)."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


class Graph:
    def __init__(self) -> None:
        self.nodes = []
        self.inits = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, value, hint: str = "c", dtype=np.float32) -> str:
        n = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), n))
        return n

    def op(self, op_type: str, inputs, hint: str | None = None, outputs: int = 1, out_name: str | None = None, **attrs):
        names = [out_name] if out_name else [self.name(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, **attrs))
        return names[0] if outputs == 1 else names

    # arithmetic shorthands
    def add(self, a, b): return self.op("Add", [a, b])
    def sub(self, a, b): return self.op("Sub", [a, b])
    def mul(self, a, b): return self.op("Mul", [a, b])
    def div(self, a, b): return self.op("Div", [a, b])
    def scalar(self, v: float) -> str: return self.const(np.float32(v), "k")

    def reduce_sum(self, x, axes, keepdims: int = 1) -> str:
        """ReduceSum takes its axes as an input from opset 13 (the other reductions until opset 18)."""
        return self.op("ReduceSum", [x, self.const(np.array(axes, dtype=np.int64), "axes", np.int64)], keepdims=keepdims)

    def mean_hw(self, x, axes=(1, 2, 3)):
        """Per-image mean, keeping dims so it broadcasts back."""
        return self.op("ReduceMean", [x], axes=list(axes), keepdims=1)

    def gaussian_blur(self, x: str, sigma: float, out_name: str | None = None) -> str:
        """Separable Gaussian on an N x 1 x H x W map, reflect-padded so the image border is not darkened."""
        r = int(np.ceil(3 * sigma))
        k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
        k = (k / k.sum()).astype(np.float32)
        pads = self.const(np.array([0, 0, r, r, 0, 0, r, r], dtype=np.int64), "pads", np.int64)
        padded = self.op("Pad", [x, pads], mode="reflect")
        h = self.op("Conv", [padded, self.const(k.reshape(1, 1, 1, -1), "kx")])
        return self.op("Conv", [h, self.const(k.reshape(1, 1, -1, 1), "ky")], out_name=out_name)

    def opening(self, x: str, size: int, out_name: str | None = None) -> str:
        """Grey-level morphological opening (erode = -maxpool(-x), then dilate = maxpool) with a square
        window: anything narrower than the window goes, larger blobs keep their shape."""
        pad = size // 2
        kw = dict(kernel_shape=[size, size], pads=[pad, pad, pad, pad], strides=[1, 1])
        eroded = self.op("Neg", [self.op("MaxPool", [self.op("Neg", [x])], **kw)])
        return self.op("MaxPool", [eroded], out_name=out_name, **kw)

    def isodata_threshold(self, x: str, weight: str, iterations: int = 8) -> tuple[str, str, str]:
        """Ridler-Calvard iterative threshold per image over the pixels with weight 1: start at their mean,
        then move to the midpoint of the means above and below; returns (threshold, mean below, mean above),
        each N x 1 x 1 x 1."""
        eps = self.scalar(1e-6)
        t = self.div(self.reduce_sum(self.mul(x, weight), [1, 2, 3]), self.add(self.reduce_sum(weight, [1, 2, 3]), eps))
        for _ in range(iterations):
            is_above = self.op("Cast", [self.op("GreaterOrEqual", [x, t])], to=TensorProto.FLOAT)
            above = self.mul(is_above, weight)
            below = self.sub(weight, above)
            n_hi = self.add(self.reduce_sum(above, [1, 2, 3]), eps)
            n_lo = self.add(self.reduce_sum(below, [1, 2, 3]), eps)
            mu_hi = self.div(self.reduce_sum(self.mul(x, above), [1, 2, 3]), n_hi)
            mu_lo = self.div(self.reduce_sum(self.mul(x, below), [1, 2, 3]), n_lo)
            t = self.mul(self.add(mu_hi, mu_lo), self.scalar(0.5))
        return t, mu_lo, mu_hi

    def save(self, path: str, input_name: str, output_name: str, height: int, width: int, doc: str) -> None:
        inp = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", 3, height, width])
        out = helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", 1, height, width])
        used = {i for n in self.nodes for i in n.input}
        inits = [t for t in self.inits if t.name in used]  # constants made but never wired in
        graph = helper.make_graph(self.nodes, doc.split(":")[0], [inp], [out], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="dermagraph-training")
        model.doc_string = doc
        model.ir_version = 8
        onnx.checker.check_model(model, full_check=True)
        onnx.save(model, path)
