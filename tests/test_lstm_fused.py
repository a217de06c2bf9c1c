"""TFLM's fused integer LSTM (UNIDIRECTIONAL_SEQUENCE_LSTM) through the real TF 2.21
converter and the real CLI (issue 10).

Keras 3 never produces the fused op; a Keras 2 LSTM (the ``tf_keras`` package) saved as
``.h5`` with batch 1 does. ``tinykit quantize`` loads such a file with tf_keras
(:func:`tinykit.load.model.keras_for`) and converts it into one
UNIDIRECTIONAL_SEQUENCE_LSTM v1: 24 inputs, int8 weights, int32 biases, an int8 hidden
state and an int16 cell state (power-of-two scale), both VARIABLE tensors without a
producer. TFLM runs it and so does the AOT runtime (tinykit/ops/lstm.py,
kernels/tk_lstm.c), bit-exact. The state persists across TFLM invokes; the reference
resets it before every sample and the AOT kernel starts each invoke from the reset
state, so every sample is one independent sequence on both sides.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from aot_helpers import check_on_qemu
from conftest import REPO
from hil_helpers import hil_bit_exact
from test_hil_qemu import emulator_state  # noqa: F401 (module fixture)
from tiny_models import PYTHON

from tinykit import reference
from tinykit.graph import parse_tflite

pytestmark = pytest.mark.host  # TF conversion

STEPS, FEATURES, UNITS = 10, 4, 8


@pytest.fixture(scope="module")
def fused(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The Keras 2 LSTM (return_sequences False and True) as .h5 and quantized, and
    calibration data."""
    d = tmp_path_factory.mktemp("lstm_fused")
    rng = np.random.default_rng(0)
    np.save(d / "data.npy", rng.standard_normal((40, STEPS, FEATURES)).astype(np.float32))
    script = f"""
import numpy as np, tf_keras
rng = np.random.default_rng(1)
for seq in (False, True):
    inp = tf_keras.Input(shape=({STEPS}, {FEATURES}), batch_size=1)
    m = tf_keras.Model(inp, tf_keras.layers.LSTM({UNITS}, return_sequences=seq, name="lstm")(inp))
    m.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in m.get_weights()])
    m.save(rf"{d}/lstm_seq{{int(seq)}}.h5")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    paths = {"data": d / "data.npy"}
    for seq in (0, 1):
        out = d / f"lstm_seq{seq}.tflite"
        q = tinykit("quantize", str(d / f"lstm_seq{seq}.h5"), "--data", str(paths["data"]),
                    "-o", str(out), "--json", log_dir=d / "logs")
        assert q.returncode == 0, q.stderr
        assert json.loads(q.stdout)["agreement"]["cosine"] > 0.9, q.stdout
        assert "not supported" not in q.stderr, q.stderr  # TFLM and the AOT runtime run it
        paths[f"seq{seq}"] = out
    return paths


def tinykit(*args: str, log_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "tinykit", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=900,
                          env={**os.environ, "TINYKIT_LOG_DIR": str(log_dir)})


@pytest.mark.parametrize("seq", [0, 1])
def test_keras2_lstm_becomes_one_fused_integer_lstm(fused: dict[str, Path], seq: int) -> None:
    """One UNIDIRECTIONAL_SEQUENCE_LSTM v1 (plus a STRIDED_SLICE for the last step when
    return_sequences is False): int8 weights, no peephole/projection/layer norm, int8
    hidden and int16 cell state as producer-less inputs 18 and 19, cell scale 2^-k."""
    graph = parse_tflite(fused[f"seq{seq}"].read_bytes(), "lstm")
    lstms = [op for op in graph.ops if op.kind == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    assert len(lstms) == 1 and lstms[0].version == 1
    op = lstms[0]
    assert {o.kind for o in graph.ops} == ({"UNIDIRECTIONAL_SEQUENCE_LSTM"} if seq
                                          else {"UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE"})
    assert len(op.inputs) == 24
    assert op.options["fused_activation_function"] == "TANH" and not op.options["time_major"]
    weights = [graph.tensor(i) for i in op.inputs[1:9]]
    assert all(t.dtype == "int8" and t.is_const for t in weights)
    assert [t.shape for t in weights] == [(UNITS, FEATURES)] * 4 + [(UNITS, UNITS)] * 4
    assert all(op.inputs[i] < 0 for i in (9, 10, 11, 16, 17, 20, 21, 22, 23)), "plain LSTM"
    assert all(graph.tensor(i).dtype == "int32" for i in op.inputs[12:16])
    hidden, cell = graph.tensor(op.inputs[18]), graph.tensor(op.inputs[19])
    assert (hidden.dtype, cell.dtype) == ("int8", "int16")
    assert not hidden.is_const and op.inputs[18] not in graph.producers
    assert cell.quant is not None and cell.quant.zero_point[0] == 0
    assert float(np.log2(cell.quant.scale[0])).is_integer(), cell.quant.scale
    out = graph.tensor(op.outputs[0])
    assert out.shape == (1, STEPS, UNITS) and hidden.quant == out.quant


def test_reference_resets_the_lstm_state_before_each_sample(fused: dict[str, Path]) -> None:
    """TFLM keeps the hidden and cell state between invokes (the same input three times
    gives another second output); tinykit's reference resets it before every sample, so
    the same input gives the same output wherever it stands in the batch."""
    model = fused["seq1"].read_bytes()
    x = np.random.default_rng(2).integers(-128, 128, (1, STEPS, FEATURES), dtype=np.int8)
    script = f"""
import numpy as np
from tflite_micro.python.tflite_micro import runtime
it = runtime.Interpreter.from_file(r"{fused['seq1']}", arena_size=1 << 18)
x = np.array({x.tolist()}, dtype=np.int8)
outs = []
for reset in (False, False, True):
    if reset:
        it.reset()
    it.set_input(x, 0)
    it.invoke()
    outs.append(it.get_output(0).tolist())
print(outs)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    first, second, after_reset = (np.array(o) for o in eval(proc.stdout.strip().splitlines()[-1]))
    assert not np.array_equal(first, second), "the state carried over"
    assert np.array_equal(first, after_reset)
    batch = np.concatenate([x, np.random.default_rng(3).integers(-128, 128, (2, STEPS, FEATURES),
                                                                 dtype=np.int8), x])
    outs = reference.run(model, batch).outputs
    assert np.array_equal(outs[0], outs[3]) and np.array_equal(outs[0], np.array(first)[0])


@pytest.mark.parametrize("seq", [0, 1])
def test_fused_lstm_aot_is_bit_exact_with_tflm(fused: dict[str, Path], tmp_path: Path,
                                               seq: int) -> None:
    """verify: the generated C (host gcc) against TFLM on 300 random int8 sequences and
    the 40 calibration sequences, every output of every step bit-exact."""
    v = tinykit("verify", str(fused[f"seq{seq}"]), "--data", str(fused["data"]), "--samples",
                "300", "--json", log_dir=tmp_path / "logs")
    assert v.returncode == 0, v.stdout[-2000:] + v.stderr
    result = json.loads(v.stdout)
    assert result["bit_exact"] and result["samples"] == 340 and result["max_abs_diff"] == 0


def test_analyze_runs_the_fused_lstm_on_both_runtimes(fused: dict[str, Path],
                                                      tmp_path: Path) -> None:
    """analyze: exit 0 for the AOT runtime and for TFLM; the AOT table names the op."""
    for runtime in ("aot", "tflm"):
        a = tinykit("analyze", str(fused["seq0"]), "--board", "qemu-m4", "--runtime", runtime,
                    "--json", log_dir=tmp_path / "logs")
        assert a.returncode == 0, a.stdout[-2000:] + a.stderr
        assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in a.stdout


@pytest.mark.emu
@pytest.mark.parametrize("seq", [0, 1])
def test_fused_lstm_bit_exact_on_cortex_m4(fused: dict[str, Path], tmp_path: Path, seq: int) -> None:
    """The generated C linked bare-metal for Cortex-M4 (mps2-an386), -O2, on QEMU: 24
    random sequences and the extremes, every output byte equal to TFLM's."""
    rng = np.random.default_rng(11)
    x = np.concatenate([np.full((1, STEPS, FEATURES), v, np.int8) for v in (-128, 0, 127)]
                       + [rng.integers(-128, 128, (24, STEPS, FEATURES), dtype=np.int8)])
    check_on_qemu(fused[f"seq{seq}"].read_bytes(), tmp_path, f"lstm_seq{seq}", x)


@pytest.mark.emu
def test_fused_lstm_hil_on_qemu_m4(fused: dict[str, Path], tmp_path: Path) -> None:
    """build --compile, flash and test over the serial link on qemu-m4: bit-exact."""
    (model := tmp_path / "lstm_seq1.tflite").write_bytes(fused["seq1"].read_bytes())
    hil_bit_exact(model, np.random.default_rng(12).integers(-128, 128, (12, STEPS, FEATURES),
                                                            dtype=np.int8))
