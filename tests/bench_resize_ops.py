"""The RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR and LOG_SOFTMAX rows of
tests/bench_issue10_ops.py: one-op graphs and the C statement running the
restated reference loop (tests/c/tflm_ref_resize.c: TFLM's ResizeNearestNeighbor,
ResizeBilinearInteger, LogSoftmaxQuantized) into ``out_ref``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.ops.log_softmax import OUTPUT_QUANT, log_softmax_params

REF_C = Path(__file__).resolve().parent / "c" / "tflm_ref_resize.c"
REF_H = REF_C.with_suffix(".h")
KINDS = ("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR", "LOG_SOFTMAX")
_Q = Quant((0.05,), (-3,), 0)


def resize(kind: str, shape: tuple[int, int, int, int], size: tuple[int, int], align: bool = False,
           half: bool = False) -> Graph:
    out = (shape[0], *size, shape[3])
    ts = (Tensor(0, "x", shape, "int8", _Q),
          Tensor(1, "size", (2,), "int32", None, np.asarray(size, np.int32).tobytes()),
          Tensor(2, "out", out, "int8", _Q))
    op = Op(0, kind, 3 if half else 2, (0, 1), (2,),
            {"align_corners": align, "half_pixel_centers": half})
    flags = "align_corners" if align else "half_pixel" if half else "no flags"
    return Graph(f"{kind} {shape} to {list(size)} {flags}", ts, (op,), (0,), (2,), 0)


def log_softmax(shape: tuple[int, ...]) -> Graph:
    ts = (Tensor(0, "x", shape, "int8", _Q),
          Tensor(1, "out", shape, "int8", Quant((OUTPUT_QUANT[0],), (OUTPUT_QUANT[1],), 0)))
    return Graph(f"LOG_SOFTMAX {shape}", ts, (Op(0, "LOG_SOFTMAX", 2, (0,), (1,), {}),), (0,), (1,), 0)


NN, BL = "RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"
CASES = [
    resize(NN, (1, 16, 16, 32), (32, 32), half=True),  # tf.image.resize(method="nearest") 2x
    resize(NN, (1, 16, 16, 8), (31, 31), align=True),
    resize(NN, (1, 32, 32, 1), (12, 20)),
    resize(BL, (1, 16, 16, 32), (32, 32), half=True),  # UpSampling2D(2, bilinear)
    resize(BL, (1, 16, 16, 8), (31, 31), align=True),
    resize(BL, (1, 32, 32, 8), (12, 20)),
    log_softmax((1, 64, 10)),
    log_softmax((1, 4, 256)),
]


def ref_call(g: Graph) -> tuple[str, str]:
    op = g.ops[0]
    x, y = g.tensor(0), g.tensor(op.outputs[0])
    if op.kind == "LOG_SOFTMAX":
        p = log_softmax_params(float(_Q.scale[0]))
        depth = x.shape[-1]
        decl = (f"static const RefLogSoftmax ls = {{{x.size // depth}, {depth}, {p['input_mult']}, "
                f"{p['input_shift']}, {p['reverse_mult']}, {-p['reverse_shift']}, {p['diff_min']}}};")
        return decl, "ref_log_softmax(&ls, in1, out_ref);"
    n, h, w, c = x.shape
    fields = [n, h, w, c, y.shape[1], y.shape[2], int(bool(op.options["align_corners"])),
              int(bool(op.options["half_pixel_centers"]))]
    decl = "static const RefResize rs = {" + ", ".join(map(str, fields)) + "};"
    fn = "ref_resize_nearest" if op.kind == NN else "ref_resize_bilinear"
    return decl, f"{fn}(&rs, in1, out_ref);"
