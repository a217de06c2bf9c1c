"""Benchmark (``make bench``; a script, not a test). Prints markdown tables:

1. AOT C vs TFLM on the four fixture models: RAM (AOT arena incl. scratch vs
   TFLM arena), flash (arm-none-eabi-size of the linked model + runtime,
   cortex-m4 -Os, vs the .tflite), host latency (AOT binary timed inside vs
   TFLM's interpreter invoke()).
2. Tool wall times: quantize, analyze (target <= 1 s), build + pio run, flash.
3. The main job on the emulated boards: firmware RAM/flash, device latency and
   HIL throughput over the emulated serial link, transfer included (target
   >= 50 inferences/s for the DS-CNN-like model).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from fixture_models import SPECS, build  # noqa: E402

from tinykit.verify.api import VerifyConfig, verify  # noqa: E402


def tinykit(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tinykit", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    return proc, time.perf_counter() - t0


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def aot_vs_tflm(tmp: Path) -> str:
    rows = []
    for name in sorted(SPECS):
        r = verify(VerifyConfig(tmp / f"{name}.tflite", samples=20, seed=0))
        rows.append([name, "yes" if r.bit_exact else "NO", f"{r.aot_ram_bytes} (scratch {r.scratch_bytes})",
                     r.tflm_arena_bytes, f"{r.ram_ratio:.2f}", r.flash_bytes, r.model_bytes,
                     f"{r.aot_us:.0f}", f"{r.tflm_us:.0f}", f"{r.aot_us / r.tflm_us:.2f}"])
        print(f"  verify {name} done", file=sys.stderr, flush=True)
    return table(["model", "bit-exact", "AOT RAM B", "TFLM arena B", "RAM ratio", "AOT flash B", ".tflite B",
                  "AOT us", "TFLM us", "latency ratio"], rows)


def tool_times(tmp: Path, models: dict) -> str:
    rows = []
    ds = models["ds_cnn"]
    np.save(tmp / "calib.npy", ds.calib)
    _, t = tinykit("quantize", ds.keras_path, "--data", str(tmp / "calib.npy"), "-o", str(tmp / "q.tflite"))
    rows.append(["quantize ds_cnn (.keras -> int8, incl. TF import and TFLM agreement)", f"{t:.1f} s"])
    for name in ("ds_cnn", "autoencoder"):
        size = (tmp / f"{name}.tflite").stat().st_size
        best = min(tinykit("analyze", str(tmp / f"{name}.tflite"), "--board", "esp32s3")[1] for _ in range(3))
        rows.append([f"analyze {name} ({size // 1024} KiB .tflite), best of 3", f"{best:.2f} s"])
    return table(["step", "wall time"], rows)


def emulated(tmp: Path) -> str:
    rows = []
    model = tmp / "ds_cnn.tflite"
    state = tmp / "qemu-state"
    for board, icount in (("qemu-m4", "0"), ("qemu-m7", "0"), ("qemu-m4", "off")):
        env = {"TINYKIT_STATE_DIR": str(state), "TINYKIT_QEMU_ICOUNT": icount}
        proj = tmp / f"p-{board}-{icount}"
        b, tb = tinykit("build", str(model), "--board", board, "-o", str(proj), "--compile", "--json", env=env)
        if b.returncode != 0:
            rows.append([board, icount, "build failed: " + b.stderr.strip()[-200:]] + [""] * 6)
            continue
        c = json.loads(b.stdout)["compile"]
        f, tf = tinykit("flash", str(proj), "--board", board, "--json", env=env)
        port = json.loads(f.stdout)["port"]
        t, _ = tinykit("test", str(model), "--port", port, "--samples", "30", "--json", env=env)
        tinykit("flash", "--board", board, "--stop", env=env)
        h = json.loads(t.stdout)
        lat = h["latency_us"]
        rows.append([board, f"shift={icount}" if icount != "off" else "off", c["ram_bytes"], c["flash_bytes"],
                     f"{tb:.1f} s", f"{tf:.1f} s", f"{h['samples']}/{h['mismatches']}",
                     f"{lat['median']:.0f}", f"{h['throughput_per_s']:.1f}"])
        print(f"  {board} icount {icount} done", file=sys.stderr, flush=True)
    return table(["board", "icount", "firmware RAM B", "firmware flash B", "build+pio run", "flash (to port)",
                  "samples/mismatches", "device latency us (median)", "HIL inferences/s"], rows)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="tinykit-bench-") as tmp_name:
        tmp = Path(tmp_name)
        models = {}
        for name in sorted(SPECS):
            models[name] = build(name, tmp_name)
            (tmp / f"{name}.tflite").write_bytes(models[name].tflite)
        print("## AOT C vs TFLM (host)\n")
        print(aot_vs_tflm(tmp), flush=True)
        print("\n## Tool wall times\n")
        print(tool_times(tmp, models), flush=True)
        print("\n## DS-CNN-like model on the emulated boards (HIL over the emulated UART)\n")
        print(emulated(tmp), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
