"""What becomes of a negation in a full-int8 conversion (TF 2.21), and the ways
that work end to end.

TFLM's NEG kernel is float-only (its Eval handles kTfLiteFloat32 alone), and TF
keeps ``-x``, ``keras.ops.negative`` and ``tf.math.negative`` in float between
DEQUANTIZE and QUANTIZE. The chain reads one int8 value and writes one, so tinykit
folds it into an int8 table computed with TFLM's own float arithmetic
(tinykit/graph/islands.py): analyze and ``tinykit quantize`` accept the model and
``tinykit verify`` is bit-exact. The int8 rewrites ``0.0 - x`` (SUB) and ``x * -1.0``
(folded into the layer before it) are bit-exact too. The NEG advice stays for a NEG
that cannot fold (tests/test_float_islands_checks.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from aot_helpers import check, quantized

from tinykit import reference
from tinykit.analyze.api import AnalyzeConfig, analyze
from tinykit.graph import parse_tflite
from tinykit.graph.islands import ISLAND, fold_islands
from tinykit.quantize.api import check_runnable

pytestmark = pytest.mark.host  # TF conversion, gcc


def _negated(kind: str):  # noqa: ANN202
    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        h = L.Dense(5)(x)
        neg = {"minus": lambda t: -t, "ops": lambda t: tf.keras.ops.negative(t),
               "tf": lambda t: tf.math.negative(t), "sub": lambda t: 0.0 - t,
               "mul": lambda t: t * -1.0}[kind]
        return L.Dense(3)(L.Lambda(neg)(h))

    return build


@pytest.mark.parametrize("kind", ["minus", "ops", "tf"])
def test_negation_stays_float_in_the_file_and_folds_into_a_bit_exact_table(
        kind: str, tmp_path: Path) -> None:
    tflite = quantized(_negated(kind), (6,), 4)
    graph = parse_tflite(tflite)
    kinds = [op.kind for op in graph.ops]
    assert kinds == ["FULLY_CONNECTED", "DEQUANTIZE", "NEG", "QUANTIZE", "FULLY_CONNECTED"], kinds
    neg = graph.ops[2]
    assert graph.tensor(neg.inputs[0]).dtype == graph.tensor(neg.outputs[0]).dtype == "float32"
    folded = fold_islands(graph)
    assert [op.kind for op in folded.ops] == ["FULLY_CONNECTED", ISLAND, "FULLY_CONNECTED"]
    assert folded.ops[1].options["folded"] == (1, 2, 3)
    # TFLM runs it (float NEG between the int8 layers)
    x = np.random.default_rng(0).integers(-128, 128, (4, 6), dtype=np.int8)
    assert reference.run(tflite, x).outputs.shape == (4, 3)
    (path := tmp_path / "neg.tflite").write_bytes(tflite)
    a = analyze(path, AnalyzeConfig("stm32"))
    assert a.supported and ISLAND in [layer.op for layer in a.layers]
    assert check_runnable(tflite, "neg") == ()  # `tinykit quantize` exits 0: no warning
    check(tflite, tmp_path, kind, samples=30)


@pytest.mark.parametrize(("kind", "ops"), [
    ("sub", ["FULLY_CONNECTED", "SUB", "FULLY_CONNECTED"]),
    ("mul", ["FULLY_CONNECTED", "FULLY_CONNECTED"]),  # the -1 folds into the first layer
])
def test_int8_rewrites_are_bit_exact(kind: str, ops: list[str], tmp_path: Path) -> None:
    tflite = quantized(_negated(kind), (6,), 4)
    assert [op.kind for op in parse_tflite(tflite).ops] == ops
    check(tflite, tmp_path, kind, samples=30)
