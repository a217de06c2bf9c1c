"""Subprocess worker for :mod:`tinykit.quantize.isolated`. Never import this
in-process: TensorFlow's converter and calibrator are native code that can
segfault (TF 2.21 does on LSTM/GRU models with a fixed batch).

usage: python -m tinykit.quantize._worker JOB_DIR

JOB_DIR holds ``job.json`` (model path, io, holdout, seed, data name) and
``data.npy`` (float samples). The worker's stdout and stderr are the job's log
file (TensorFlow writes there directly, see :data:`tinykit.tf.PASSTHROUGH_ENV`),
and :mod:`faulthandler` dumps the Python stack there on a fatal signal. It writes:

- ``stage``: the part of the work in progress (``load``, ``converter``,
  ``calibrator``, ``float converter``, ``float model``), rewritten at each step
- ``layers.json``: the model's layers as ``[name, class name]`` pairs
- on success: ``int8.tflite``, ``held.npy``, ``float_out.npy`` and ``result.json``
- on a known error: ``error.json`` (class name, message, hint), exit 3

A batch job (:func:`tinykit.quantize.isolated.convert_many`: one TensorFlow import
for several models) has ``batch.json``, the list of its job folders (JOB_DIR/0,
JOB_DIR/1, ...), each laid out as above; a known error is written in its folder and
the worker goes on with the next one.

``TINYKIT_TEST_CRASH=<stage>`` (tests only) raises a real SIGSEGV in native code
when the worker enters that stage, to test the parent's crash report.
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CRASH_ENV = "TINYKIT_TEST_CRASH"


def layers_of(model: Any) -> list[list[str]]:
    """Every layer, nested models and wrappers (Bidirectional, TimeDistributed) included."""
    found: list[list[str]] = []

    def walk(layer: Any) -> None:
        found.append([str(layer.name), type(layer).__name__])
        for inner in getattr(layer, "layers", None) or ():
            walk(inner)
        for attr in ("forward_layer", "backward_layer", "layer"):
            inner = getattr(layer, attr, None)
            if inner is not None and hasattr(inner, "name") and not isinstance(inner, str):
                walk(inner)

    for layer in getattr(model, "layers", ()):
        walk(layer)
    return found


def _mark_calibrator(stage: Callable[[str], None]) -> None:
    """Tell ``stage`` when TF's calibrator starts: TFLiteConverter.convert first
    converts the graph to a float model (the converter), then builds a Calibrator
    that runs the calibration samples and quantizes. TF's internal class is wrapped
    in this throw-away process only; without it every crash reads "converter"."""
    try:
        from tensorflow.lite.python.optimize import calibrator
    except ImportError:
        return
    cls = getattr(calibrator, "Calibrator", None)
    original = getattr(cls, "__init__", None)
    if cls is None or original is None:
        return

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        stage("calibrator")
        original(self, *args, **kwargs)

    cls.__init__ = init


def run(job_dir: Path) -> None:
    job = json.loads((job_dir / "job.json").read_text())
    crash_at = os.environ.get(CRASH_ENV)

    def stage(name: str) -> None:
        (job_dir / "stage").write_text(name)
        if crash_at == name:
            import ctypes

            ctypes.string_at(0)  # reads address 0: a real native SIGSEGV, for tests

    from tinykit.load import check_shape, load_model, model_io_shapes
    from tinykit.quantize.api import calibration_warnings, split
    from tinykit.quantize.convert import convert_float, convert_int8
    from tinykit.quantize.tokens import calibration_batch

    stage("load")
    path = Path(job["model"])
    model = load_model(path)
    (job_dir / "layers.json").write_text(json.dumps(layers_of(model)))
    in_shape, _ = model_io_shapes(model, path.name)
    batch = calibration_batch(check_shape(np.load(job_dir / "data.npy"), in_shape, job["what"]),
                              model, job["what"])  # float32, or token ids (int32 input)

    calib_idx, hold_idx = split(len(batch), job["holdout"], job["seed"])
    calib = batch[calib_idx]
    held, on = (batch[hold_idx], "holdout") if len(hold_idx) else (calib, "calibration")

    stage("converter")
    _mark_calibrator(stage)
    tflite = convert_int8(model, calib, job["io"])
    stage("float converter")
    float_bytes = len(convert_float(model))
    stage("float model")
    float_out = np.asarray(model.predict(held, batch_size=32, verbose=0))

    (job_dir / "int8.tflite").write_bytes(tflite)
    np.save(job_dir / "held.npy", held)
    np.save(job_dir / "float_out.npy", float_out)
    (job_dir / "result.json").write_text(json.dumps({
        "float_bytes": float_bytes, "calibration_samples": len(calib),
        "holdout_samples": len(hold_idx), "on": on,
        "warnings": list(calibration_warnings(calib, job["what"]))}))
    stage("done")


def run_one(job_dir: Path) -> bool:
    """Run one job; a known error is written to its ``error.json`` (False)."""
    from tinykit.errors import TinykitError

    try:
        run(job_dir)
    except TinykitError as exc:
        (job_dir / "error.json").write_text(json.dumps(
            {"class": type(exc).__name__, "message": exc.message, "hint": exc.hint}))
        return False
    return True


def main(argv: list[str]) -> int:
    job_dir = Path(argv[0])
    # a dup of the log's fd: TensorFlow's own fd juggling can never redirect the dump
    faulthandler.enable(file=os.fdopen(os.dup(2), "w"), all_threads=True)
    batch = job_dir / "batch.json"
    if batch.is_file():
        for name in json.loads(batch.read_text()):
            run_one(job_dir / name)
        return 0
    return 0 if run_one(job_dir) else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
