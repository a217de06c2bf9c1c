"""Subprocess worker for :mod:`tinykit.reference`. Never import this in-process:
TFLM may segfault on bad models or arenas.

usage: python -m tinykit.reference._worker arena|run|tensors MODEL ARENA [IN.npy OUT [IDS]]
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

# Ops whose TFLite reference kernel is registered below the version the converter writes,
# though it runs that version's types: TILE v3 (int8) runs in the v2 kernel, a typed copy.
_REF_VERSION = {"TILE": 2}


def _ref_versions(data: bytes) -> bytes:
    """The model with the op versions of :data:`_REF_VERSION` lowered in place."""
    import struct

    import tflite
    from tflite.utils import BUILTIN_OPCODE2NAME

    out = bytearray(data)
    model = tflite.Model.GetRootAs(out, 0)
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        kind = BUILTIN_OPCODE2NAME.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()))
        field = code._tab.Offset(8)  # OperatorCode.version
        if kind in _REF_VERSION and field and code.Version() > _REF_VERSION[kind]:
            struct.pack_into("<i", out, code._tab.Pos + field, _REF_VERSION[kind])
    return bytes(out)


class _TfliteInterpreter:
    """TFLite's interpreter with its reference kernels (the ones TFLM's are taken from)
    behind the few TFLM calls used here: the reference for a model with an op TFLM has
    no kernel for (TILE), chosen by the parent (TINYKIT_REFERENCE_ENGINE=tflite)."""

    def __init__(self, path: str, preserve: bool) -> None:
        import tensorflow as tf

        with open(path, "rb") as f:
            data = _ref_versions(f.read())
        self.tf = tf.lite.Interpreter(
            model_content=data, experimental_preserve_all_tensors=preserve,
            experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
        self.tf.allocate_tensors()

    def get_input_details(self, i: int) -> dict:
        return self.tf.get_input_details()[i]

    def set_input(self, x: np.ndarray, i: int) -> None:
        d = self.get_input_details(i)
        self.tf.set_tensor(d["index"], x.reshape(d["shape"]).astype(d["dtype"]))

    def invoke(self) -> None:
        self.tf.invoke()

    def reset(self) -> None:
        self.tf.reset_all_variables()

    def get_output(self, i: int) -> np.ndarray:
        return self.tf.get_tensor(self.tf.get_output_details()[i]["index"])

    def GetTensor(self, index: int, subgraph: int) -> dict:  # noqa: N802 - TFLM's name
        return {"tensor_data": self.tf.get_tensor(index, subgraph)}

    def print_allocations(self) -> None:
        raise RuntimeError("TFLM has no kernel for an op of this model: no TFLM arena")


def _interpreter(path: str, arena: int, preserve: bool = False):  # noqa: ANN202
    if os.environ.get("TINYKIT_REFERENCE_ENGINE") == "tflite":
        return _TfliteInterpreter(path, preserve)
    from tflite_micro.python.tflite_micro import runtime

    cfg = (runtime.InterpreterConfig.kPreserveAllTensors if preserve
           else runtime.InterpreterConfig.kAllocationRecording)
    return runtime.Interpreter.from_file(path, arena_size=arena, intrepreter_config=cfg)


def main(argv: list[str]) -> int:
    cmd, path, arena = argv[0], argv[1], int(argv[2])
    interp = _interpreter(path, arena, preserve=(cmd == "tensors"))
    in_shape = tuple(interp.get_input_details(0)["shape"])
    if cmd == "arena":
        interp.set_input(np.zeros(in_shape, interp.get_input_details(0)["dtype"]), 0)
        interp.invoke()
        sys.stderr.flush()
        interp.print_allocations()
        return 0
    data = np.load(argv[3])
    # Every sample starts from a fresh model state: a VARIABLE tensor (the hidden and cell
    # state of UNIDIRECTIONAL_SEQUENCE_LSTM) would otherwise carry one sample into the next,
    # and the AOT kernel resets it (hidden = zero point, cell = 0) in each tk_model_invoke.
    if cmd == "tensors":
        interp.reset()
        interp.set_input(data.reshape(in_shape), 0)
        interp.invoke()
        wanted = [int(i) for i in argv[5].split(",") if i]
        tensors = {f"t{i}": np.array(interp.GetTensor(i, 0)["tensor_data"]) for i in wanted}
        np.savez(argv[4], **tensors)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
        return 0
    outputs = []
    times = []
    if len(data):  # one untimed warm-up run: the median after it is steady under load
        interp.set_input(data[0].reshape(in_shape), 0)
        interp.invoke()
    for sample in data:
        interp.reset()
        interp.set_input(sample.reshape(in_shape), 0)
        t0 = time.perf_counter()
        interp.invoke()
        times.append(time.perf_counter() - t0)
        out = interp.get_output(0)
        outputs.append(np.array(out).reshape(out.shape[1:] if out.shape[0] == 1 else out.shape))
    np.save(argv[4], np.stack(outputs) if outputs else np.zeros((0,)))
    median = float(np.median(times)) if times else 0.0
    print(json.dumps({"us_per_inference": 1e6 * median}))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as exc:  # noqa: BLE001 - reported as one line by the parent
        print(f"{type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        sys.exit(3)
