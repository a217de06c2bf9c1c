"""Subprocess worker for :mod:`tinykit.reference`. Never import this in-process:
TFLM may segfault on bad models or arenas.

usage: python -m tinykit.reference._worker arena|run|tensors MODEL ARENA [IN.npy OUT [IDS]]
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def _interpreter(path: str, arena: int, preserve: bool = False):  # noqa: ANN202
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
    if cmd == "tensors":
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
