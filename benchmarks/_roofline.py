"""How fast could any engine embed these sentences on this CPU? A roofline from measured GEMM peaks.

An encoder's time is dominated by its dense layers (GEMMs); every other op (softmax, LayerNorm,
GELU, adds) only adds time. So ``model FLOPs / peak GEMM rate`` is a lower bound on the time of
*any* engine on this machine, and ``sentences / that time`` an upper bound on its throughput. The
peak is measured with ONNX Runtime's own kernels (MLAS fp32 MatMul; u8 x s8 MatMulInteger, the
kernel of its int8 dynamic quantization) on the layer shapes of the model at the batch shapes of
the run, best of several repetitions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Dims:
    hidden: int
    intermediate: int
    layers: int

    @classmethod
    def from_config(cls, config: dict) -> "Dims":
        return cls(int(config["hidden_size"]), int(config["intermediate_size"]), int(config["num_hidden_layers"]))


def batch_shapes(lengths: Sequence[int], batch: int) -> list[tuple[int, int]]:
    """(rows, padded width) of each batch when inputs are sorted by length, as both stacks do."""
    ordered = sorted(lengths, reverse=True)
    return [(len(ordered[i:i + batch]), ordered[i]) for i in range(0, len(ordered), batch)]


def encoder_flops(shapes: Sequence[tuple[int, int]], d: Dims) -> tuple[float, float]:
    """(dense-layer FLOPs, attention-score FLOPs) of a BERT-style encoder over these batches."""
    dense = attention = 0.0
    for rows, width in shapes:
        tokens = rows * width
        dense += 2.0 * tokens * (4 * d.hidden * d.hidden + 2 * d.hidden * d.intermediate)
        attention += 2.0 * 2.0 * rows * width * width * d.hidden  # QK^T and (softmax)V
    return dense * d.layers, attention * d.layers


def _session(graph_nodes, inputs, outputs, initializers, threads: int):
    import onnxruntime as ort
    from onnx import helper

    model = helper.make_model(helper.make_graph(graph_nodes, "gemm", inputs, outputs, initializers),
                              opset_imports=[helper.make_opsetid("", 17)])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def gemm_peak(m: int, d: Dims, *, int8: bool, threads: int, reps: int = 30) -> float:
    """Best FLOP/s of ONNX Runtime over the model's four dense shapes with ``m`` token rows."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    shapes = [(d.hidden, 3 * d.hidden), (d.hidden, d.hidden), (d.hidden, d.intermediate), (d.intermediate, d.hidden)]
    total_flops = 0.0
    best_total = 0.0
    for k, n in shapes:
        if int8:
            w = rng.integers(-127, 128, (k, n), dtype=np.int8)
            nodes = [helper.make_node("MatMulInteger", ["a", "w", "az"], ["y"])]
            inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array(128, np.uint8), "az")]
            a_type, y_type = TensorProto.UINT8, TensorProto.INT32
            a = rng.integers(0, 256, (m, k), dtype=np.uint8)
        else:
            nodes = [helper.make_node("MatMul", ["a", "w"], ["y"])]
            inits = [numpy_helper.from_array(rng.standard_normal((k, n), dtype=np.float32), "w")]
            a_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
            a = rng.standard_normal((m, k), dtype=np.float32)
        sess = _session(nodes, [helper.make_tensor_value_info("a", a_type, [m, k])],
                           [helper.make_tensor_value_info("y", y_type, [m, n])], inits, threads)
        for _ in range(3):
            sess.run(None, {"a": a})
        best = float("inf")
        for _ in range(reps):
            t = time.perf_counter()
            sess.run(None, {"a": a})
            best = min(best, time.perf_counter() - t)
        total_flops += 2.0 * m * k * n
        best_total += best
    return total_flops / best_total


@dataclass
class Roofline:
    dense_gflop: float
    attention_gflop: float
    peak_fp32: float  # GFLOP/s
    peak_int8: float  # GOP/s

    @property
    def gflop(self) -> float:
        return self.dense_gflop + self.attention_gflop

    def ceiling(self, sentences: int, *, int8: bool) -> float:
        """Sentences/s if every op but the GEMMs were free and the GEMMs ran at the measured peak."""
        dense_rate = self.peak_int8 if int8 else self.peak_fp32
        # attention scores stay fp32 in ORT's int8 QAttention
        return sentences / (self.dense_gflop / dense_rate + self.attention_gflop / self.peak_fp32)


def measure(lengths: Sequence[int], config: dict, *, batch: int, threads: int) -> Roofline:
    d = Dims.from_config(config)
    shapes = batch_shapes(lengths, batch)
    dense, attention = encoder_flops(shapes, d)
    m = int(np.median([rows * width for rows, width in shapes]))
    return Roofline(dense / 1e9, attention / 1e9,
                    gemm_peak(m, d, int8=False, threads=threads) / 1e9,
                    gemm_peak(m, d, int8=True, threads=threads) / 1e9)
