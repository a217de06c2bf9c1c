"""The committed fixture models (tests/fixtures/) match their generator, and
loading them needs no TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import committed_fixtures as cf
import numpy as np
import pytest
from conftest import REPO
from fixture_models import SPECS

from tinykit.graph import parse_tflite

pytestmark = pytest.mark.unit


def test_fixtures_are_regenerated_with_the_generator() -> None:
    """Fails when fixture_models.py or the int8 conversion changed (or a file was
    replaced by hand) and ``make fixtures`` was not run."""
    found = cf.problems()
    assert not found, ("tests/fixtures/ is stale:\n  " + "\n  ".join(found)
                       + f"\nrun: {cf.REGENERATE}\nand commit tests/fixtures/")


def test_committed_size_stays_small() -> None:
    total = sum(cf.tflite_path(name).stat().st_size for name in SPECS) + cf.MANIFEST.stat().st_size
    assert total < 1_000_000, f"tests/fixtures/ holds {total} bytes"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_committed_model_is_int8_with_the_fixture_shapes(name: str) -> None:
    m = cf.load(name)
    _, shape, classes, _ = SPECS[name]
    graph = parse_tflite(m.tflite, name)
    (inp,), (out,) = graph.input_tensors, graph.output_tensors
    assert inp.dtype == out.dtype == "int8"
    assert tuple(inp.shape[1:]) == shape and m.calib.shape == (200, *shape)
    assert m.calib.dtype == np.float32
    assert (m.labels is None) == (classes == 0)
    assert out.shape[-1] == (classes or shape[-1])
    with pytest.raises(LookupError, match="trained_"):
        _ = m.keras_path


def test_loading_needs_no_tensorflow() -> None:
    code = ("import sys; sys.path.insert(0, 'tests'); import committed_fixtures as cf; "
            "[cf.load(n) for n in cf.SPECS]; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; print('ok')")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr
