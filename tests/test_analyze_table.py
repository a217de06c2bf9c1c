"""The analyze table stays readable at 80 columns and when not on a TTY (CI logs, less)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_table_fits_and_keeps_its_columns(columns: int, model_dir: Path, mobilenet) -> None:  # noqa: ANN001
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    r = subprocess.run([sys.executable, "-m", "tinykit", "analyze", str(model_dir / "mobilenet.tflite"),
                        "--board", "qemu-m4"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = [line.translate(str.maketrans("│┃", "  ")) for line in r.stdout.splitlines()]
    assert max(len(line) for line in lines) <= columns
    header = next(line for line in lines if " op " in line)
    for col in ("#", "layer", "op", "v", "out", "params", "MACs"):
        assert f" {col} " in f" {header} ", (col, header)
    rows = [line.split() for line in lines if line.strip()[:2].strip().isdigit()]
    assert len(rows) == 16
    assert rows[0][1] == "conv2d_5_1" and rows[0][2] == "CONV_2D" and rows[0][3].isdigit()


def test_tflm_ram_is_unknown_when_tflm_cannot_run_the_model(ds_cnn) -> None:  # noqa: ANN001
    """Not "RAM 0 B ... fits": an op TFLM lacks makes its arena unknown, never a fit."""
    import dataclasses
    from concurrent.futures import Future

    from tinykit.analyze.api import _analysis
    from tinykit.boards import resolve
    from tinykit.errors import ReferenceError_
    from tinykit.graph import parse_tflite

    graph = parse_tflite(ds_cnn.tflite, "kws")
    ops = list(graph.ops)
    ops[-1] = dataclasses.replace(ops[-1], kind="CUSTOM")
    graph = dataclasses.replace(graph, ops=tuple(ops))
    pending: Future = Future()
    pending.set_exception(ReferenceError_("TFLM failed to allocate tensors"))
    a = _analysis(graph, ds_cnn.tflite, resolve("qemu-m4"), "tflm", pending)
    assert not a.ram.known and not a.ram.fits and not a.ok
    assert "RAM unknown" in a.verdict and "CUSTOM" in a.verdict
    assert a.to_dict()["budget"]["ram"]["known"] is False
