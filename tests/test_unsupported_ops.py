"""One meaning for an op the runtime cannot run: a failed check (exit 1) with the same
line (:func:`tinykit.ops.unsupported_message`) in analyze, build and verify; --force is
not offered for it, and no hint sends the user to a runtime that cannot run the model."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from tiny_models import PYTHON

from tinykit.graph import parse_tflite
from tinykit.ops import find_unsupported, unsupported_message

pytestmark = pytest.mark.host  # TF conversion of the models


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """int8 .tflite files: ``depth_to_space`` (DEPTH_TO_SPACE: TFLM runs it, the AOT runtime
    does not) and ``gelu`` (GELU: neither runtime runs it)."""
    from tinykit.quantize.convert import convert_int8
    from tinykit.tf import import_tf, quiet

    tf = import_tf()
    tf.keras.utils.set_random_seed(0)
    L = tf.keras.layers
    d = tmp_path_factory.mktemp("unsupported")
    x = np.random.default_rng(0).random((16, 6, 6, 2)).astype(np.float32)
    paths = {}
    d2s = L.Lambda(lambda t: tf.nn.depth_to_space(tf.concat([t, t], -1), 2))
    for name, layer in (("depth_to_space", d2s),
                        ("gelu", L.Activation("gelu"))):
        inp = tf.keras.Input((6, 6, 2))
        with quiet():
            model = tf.keras.Model(inp, L.Conv2D(2, 1)(layer(inp)))
        paths[name] = d / f"{name}.tflite"
        paths[name].write_bytes(convert_int8(model, x))
    return paths


def tinykit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "tinykit", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def expected_line(path: Path, runtime: str = "aot") -> str:
    graph = parse_tflite(path.read_bytes(), path.stem)
    problems = find_unsupported(runtime, graph)
    assert problems
    return unsupported_message(runtime, problems)


def test_same_line_and_exit_1_in_analyze_build_verify(models: dict[str, Path],
                                                      tmp_path: Path) -> None:
    path = models["depth_to_space"]
    want = expected_line(path)
    assert "DEPTH_TO_SPACE v" in want and "layer " in want
    runs = {
        "analyze": tinykit("analyze", str(path), "--board", "qemu-m4"),
        "build": tinykit("build", str(path), "--board", "qemu-m4", "-o", str(tmp_path / "b")),
        "build --force": tinykit("build", str(path), "--board", "qemu-m4", "--force",
                                 "-o", str(tmp_path / "f")),
        "verify": tinykit("verify", str(path), "--samples", "2"),
    }
    for verb, proc in runs.items():
        assert proc.returncode == 1, (verb, proc.stderr)
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("tinykit: check failed: ") and want in last, (verb, last)
        assert "--force" not in proc.stderr, verb  # --force cannot help with a missing kernel
        assert "analyze MODEL --runtime tflm" not in proc.stderr, verb
    # TFLM can run DEPTH_TO_SPACE: the hint says so, and says where (not on QEMU)
    assert "--runtime tflm" in runs["verify"].stderr and "qemu" in runs["verify"].stderr


def test_no_hint_points_to_tflm_when_tflm_cannot_run_it(models: dict[str, Path]) -> None:
    path = models["gelu"]
    proc = tinykit("verify", str(path), "--samples", "2")
    assert proc.returncode == 1
    line = proc.stderr.strip().splitlines()[-1]
    assert expected_line(path) in line and "GELU v" in line
    assert "runtime tflm" not in line
    tflm = tinykit("analyze", str(path), "--board", "qemu-m4", "--runtime", "tflm")
    assert tflm.returncode == 1 and expected_line(path, "tflm") in tflm.stderr


def test_tflm_on_an_emulated_board_is_one_clear_line(models: dict[str, Path],
                                                      tmp_path: Path) -> None:
    proc = tinykit("build", str(models["depth_to_space"]), "--board", "qemu-m4", "--runtime", "tflm",
                   "-o", str(tmp_path / "t"))
    assert proc.returncode == 2
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("tinykit: error: --runtime tflm cannot be built for qemu-m4")
    assert "cannot be HIL-tested on QEMU" in line
