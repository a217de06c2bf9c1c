"""The HIL sequence the emulated-board tests share: `tinykit build --compile`,
`tinykit flash` (QEMU), then `tinykit test` over the serial link on given inputs,
bit-exact with the reference. A test module using it imports the module fixture
``emulator_state`` from test_hil_qemu, so its emulators are private and stopped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from test_hil_qemu import build_and_flash, tinykit


def hil_bit_exact(model: Path, data: np.ndarray | int, board: str = "qemu-m4") -> dict:
    """Build and flash ``model`` for ``board`` (firmware in ``fw`` beside the model),
    run ``tinykit test --data`` on ``data`` (saved beside it), or ``--samples N`` when
    ``data`` is a count (tinykit's random inputs in the model's input dtype), and assert
    every sample is bit exact; returns the JSON report."""
    _, port = build_and_flash(model, board, model.parent / "fw")
    if isinstance(data, int):
        inputs, n = ["--samples", str(data)], data
    else:
        np.save(path := model.parent / "data.npy", data)
        inputs, n = ["--data", str(path)], len(data)
    r = tinykit("test", str(model), "--port", port, *inputs, "--timeout", "60", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(r.stdout)
    assert result["bit_exact"] and result["samples"] == n and result["mismatches"] == 0, result
    return result
