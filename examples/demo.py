"""`make demo`: the main job end to end, through the tinykit CLI.

1. train the example keyword spotter on data it generates (examples/kws.py)
2. tinykit quantize      -> int8 .tflite, agreement with the float model
3. tinykit analyze       -> per-layer table and budget for esp32s3
4. tinykit build         -> a PlatformIO project for esp32s3 (compiles on a machine with its toolchain)
5. tinykit build --compile, tinykit flash  -> firmware on the emulated Cortex-M4 (QEMU)
6. tinykit test          -> every sample on the emulated board vs the TFLM reference
7. tinykit run --layers  -> one inference with the device time of every layer
8. tinykit report        -> one HTML page: model, memory plan, budgets, speed, quantization error
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "demo"


def step(title: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    print(f"\n=== {title}\n$ tinykit {' '.join(args)}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tinykit", *args], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE)
    print(proc.stdout, end="")
    print(f"(exit {proc.returncode}, {time.perf_counter() - t0:.1f} s)", flush=True)
    if check and proc.returncode != 0:
        stop_emulator()
        sys.exit(proc.returncode)
    return proc


def stop_emulator() -> None:
    subprocess.run([sys.executable, "-m", "tinykit", "flash", "--board", "qemu-m4", "--stop"], cwd=ROOT,
                   capture_output=True)


def budget_table(model: Path) -> list[str]:
    """`tinykit analyze --json` on every board: does the model fit?"""
    from tinykit.boards import all_boards

    print("\n=== analyze on every board", flush=True)
    rows = []
    for board in all_boards():
        proc = subprocess.run([sys.executable, "-m", "tinykit", "analyze", str(model), "--board", board.id,
                               "--json"], cwd=ROOT, text=True, capture_output=True)
        if proc.returncode not in (0, 1):
            print(proc.stderr, end="")
            sys.exit(proc.returncode)
        a = json.loads(proc.stdout)
        ram, flash = a["budget"]["ram"], a["budget"]["flash"]
        rows.append(f"{board.id:15} RAM {ram['used']:>7} / {ram['budget']:>7} B  flash {flash['used']:>7} / "
                    f"{flash['budget']:>8} B  {'fits' if a['ok'] else 'DOES NOT FIT'}")
    print("\n".join(rows))
    return rows


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    print("=== training the example model on synthetic data (examples/kws.py)", flush=True)
    subprocess.run([sys.executable, str(ROOT / "examples" / "kws.py"), str(OUT)], check=True, cwd=ROOT)
    model = OUT / "kws.tflite"
    q = step("quantize", "quantize", str(OUT / "kws.keras"), "--data", str(OUT / "calib.npy"), "-o", str(model),
             "--json")
    quant = json.loads(q.stdout)
    step("analyze for esp32s3", "analyze", str(model), "--board", "esp32s3")
    budgets = budget_table(model)
    step("build for esp32s3", "build", str(model), "--board", "esp32s3", "-o", str(OUT / "kws-esp32s3"))
    b = step("build for qemu-m4 (pio run)", "build", str(model), "--board", "qemu-m4", "-o",
             str(OUT / "kws-qemu-m4"), "--compile", "--json")
    built = json.loads(b.stdout)
    f = step("flash qemu-m4", "flash", str(OUT / "kws-qemu-m4"), "--board", "qemu-m4", "--json")
    port = json.loads(f.stdout)["port"]
    try:
        report = OUT / "hil.json"
        t = step("HIL test on qemu-m4", "test", str(model), "--port", port, "--data", str(OUT / "test_x.npy"),
                 "--labels", str(OUT / "test_y.npy"), "--samples", "100", "--json-file", str(report),
                 "--junit", str(OUT / "hil.xml"), check=False)
        hil = json.loads(report.read_text())
        run_json = per_layer_run(model, port)
    finally:
        stop_emulator()
    lat = hil.get("latency_us") or {}
    print("\n=== summary")
    print("budget (AOT runtime):\n  " + "\n  ".join(budgets))
    print(f"model            kws ({quant.get('int8_bytes')} B int8, {quant.get('float_bytes')} B float)")
    print(f"quantization     {json.dumps(quant.get('agreement'))}")
    c = built.get("compile", {})
    print(f"qemu-m4 firmware RAM {c.get('ram_bytes')} B, flash {c.get('flash_bytes')} B")
    print(f"HIL              {hil.get('samples')} samples, {hil.get('mismatches')} mismatches, "
          f"bit-exact: {hil.get('bit_exact')}, accuracy {hil.get('accuracy')}")
    print(f"device latency   min {lat.get('min'):.0f} / median {lat.get('median'):.0f} / p95 {lat.get('p95'):.0f} us "
          f"(virtual time, -icount shift=0); throughput {hil.get('throughput_per_s', 0):.1f} inferences/s "
          "over the emulated UART, transfer included")
    html = write_report(model, report, run_json)
    print(f"report           {html}  (open it in a browser: one file, works offline)")
    return t.returncode


def per_layer_run(model: Path, port: str) -> Path | None:
    """`tinykit run --layers --json`: one inference with the device time of every layer."""
    import numpy as np

    x0 = OUT / "x0.npy"
    np.save(x0, np.load(OUT / "test_x.npy")[:1])
    r = step("one inference on qemu-m4 with per-layer times", "run", "--port", port, "--input", str(x0),
             "--model", str(model), "--layers", "--json", check=False)
    if r.returncode != 0:
        return None
    path = OUT / "run.json"
    path.write_text(r.stdout)
    return path


def write_report(model: Path, hil: Path, run_json: Path | None) -> str:
    """`tinykit report`: every section (budgets on every board, quantization error, speed)."""
    args = ["report", str(model), "--board", "all", "--keras", str(OUT / "kws.keras"), "--data",
            str(OUT / "calib.npy"), "--hil", str(hil), "-o", str(OUT / "report.html")]
    args += ["--layers", str(run_json)] if run_json is not None else []
    r = step("report (one HTML page)", *args, check=False)
    return r.stdout.strip() if r.returncode == 0 else f"not written (exit {r.returncode})"


if __name__ == "__main__":
    sys.exit(main())
