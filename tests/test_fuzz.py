"""Damaged models get a one-line error, never a traceback (tests/fuzz_models.py;
``make fuzz`` runs 10,000 mutants)."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from fuzz_models import KINDS, fuzz, mutate

from tinykit.errors import ModelError
from tinykit.graph import parse_tflite


@pytest.mark.unit
@pytest.mark.parametrize("name,n", [("ds_cnn", 150), ("mobilenet", 60), ("resnet", 60)])
def test_mutants_never_crash_the_pipeline(name: str, n: int, request: pytest.FixtureRequest) -> None:
    model = request.getfixturevalue(name)
    outcomes, crashes = fuzz(model.tflite, n, seed=7)
    assert not crashes, crashes[0]
    assert outcomes["ModelError"] > 0 and outcomes["ok"] > 0  # the mutants really vary


@pytest.mark.unit
def test_op_without_outputs_is_a_model_error(ds_cnn) -> None:  # noqa: ANN001
    """The bit flip the issue found: an operator left with no outputs."""
    import flatbuffers  # noqa: F401 - the tflite package's runtime
    import tflite

    data = bytearray(ds_cnn.tflite)
    model = tflite.Model.GetRootAs(data, 0)
    op = model.Subgraphs(0).Operators(3)
    vec = op._tab.Offset(8)  # Operator.outputs
    assert vec
    start = op._tab.Vector(vec)
    length_at = start - 4
    data[length_at:length_at + 4] = (0).to_bytes(4, "little")
    with pytest.raises(ModelError, match="op 3 .* has no output tensor"):
        parse_tflite(bytes(data), "kws")


@pytest.mark.host
def test_cli_meets_mutants_with_one_line_errors(ds_cnn, tmp_path) -> None:  # noqa: ANN001
    """analyze (with its TFLM subprocess) on a few mutants: exit 0, 1 or 2, no traceback."""
    rng = random.Random(3)
    for i in range(8):
        path = tmp_path / f"m{i}.tflite"
        path.write_bytes(mutate(ds_cnn.tflite, rng, KINDS[i % len(KINDS)]))
        r = subprocess.run([sys.executable, "-m", "tinykit", "analyze", str(path), "--board", "qemu-m4"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode in (0, 1, 2), (i, r.returncode, r.stderr)
        assert "Traceback" not in r.stderr, r.stderr
        if r.returncode == 2:
            assert len(r.stderr.strip().splitlines()) <= 2, r.stderr
