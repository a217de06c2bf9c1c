"""FLOAT_ISLAND: a chain DEQUANTIZE -> exact unary float ops -> QUANTIZE that
:func:`tinykit.graph.islands.fold_islands` turned into one int8 op. It runs as a
256-entry table (kernels/tk_lut.c, no new C), computed at generation time with TFLM's
float32 Dequantize, the float ops and AffineQuantize
(:func:`tinykit.graph.islands.island_table`), so it is bit-exact with TFLM running
the float ops. TFLM runs the original ops (the model file is unchanged), so the spec
has no resolver method of its own.
"""

from __future__ import annotations

from tinykit.graph import Graph, Op
from tinykit.graph.islands import EXACT_UNARY, ISLAND, island_table
from tinykit.ops._common import all_int8, first, per_output_element
from tinykit.ops.lut import lut_emitter
from tinykit.ops.spec import OpSpec, always


def _check_chain(graph: Graph, op: Op) -> str | None:
    chain = tuple(op.options.get("chain", ()))
    if len(chain) < 2 or chain[0] != "DEQUANTIZE" or chain[-1] != "QUANTIZE" or \
            any(kind not in EXACT_UNARY for kind in chain[1:-1]):
        return f"cannot fold the float ops {' -> '.join(chain) or '(none)'} into a table"
    return None


SPECS = (
    OpSpec(ISLAND, 1, lut_emitter(lambda x, y, op: [int(v) for v in island_table(
        x, y, tuple(op.options["chain"]))]), ("tk_lut_s8",), per_output_element,
        tflm="", tflm_version=0, check=first(all_int8, _check_chain), inplace=always,
        code_bytes=256),
)
