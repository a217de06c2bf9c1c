"""Benchmark of the AOT int8 kernels (a script, not a test).

Host: for each fixture model, ``tinykit.verify.api.verify`` (bit-exact check, AOT
host-gcc us vs TFLM us). Emulated Cortex-M4: DS-CNN built for qemu-m4
(``tinykit build --compile``), flashed (QEMU started), and driven with
``tinykit test --samples N --json`` for device latency and throughput over the
emulated serial link. The emulator is always stopped at the end.

usage: python tests/perf_kernels.py [--models a,b] [--no-host] [--no-qemu]
           [--icount 0|off] [--samples N] [--dir DIR]

Fixture models are cached in DIR (default $TMPDIR/tinykit-perf) to skip the TF
training on later runs. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fixture_models import SPECS  # noqa: E402

from tinykit.verify.api import VerifyConfig, verify  # noqa: E402


def model_path(name: str, cache: Path) -> Path:
    path = cache / f"{name}.tflite"
    if not path.exists():
        from fixture_models import build

        cache.mkdir(parents=True, exist_ok=True)
        path.write_bytes(build(name, str(cache)).tflite)
    return path


def host_rows(names: list[str], cache: Path) -> list[str]:
    rows = []
    for name in names:
        r = verify(VerifyConfig(model_path(name, cache), samples=20, seed=0))
        rows.append(f"| {name} | {'yes' if r.bit_exact else 'NO'} | {r.aot_us:.0f} | "
                    f"{r.tflm_us:.0f} | {r.aot_us / r.tflm_us:.3f} | {r.aot_ram_bytes} | "
                    f"{r.flash_bytes} |")
        print(f"host {name} done", file=sys.stderr, flush=True)
    return rows


def _tinykit(*args: str, env: dict[str, str]) -> str:
    proc = subprocess.run([sys.executable, "-m", "tinykit", *args], capture_output=True,
                          text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"tinykit {args[0]} failed: {proc.stderr.strip()[-2000:]}")
    return proc.stdout


def qemu_row(name: str, cache: Path, icount: str, samples: int) -> str:
    model = model_path(name, cache)
    with tempfile.TemporaryDirectory(prefix="tinykit-perf-") as tmp:
        env = dict(os.environ, TINYKIT_STATE_DIR=str(Path(tmp) / "state"),
                   TINYKIT_QEMU_ICOUNT=icount,
                   PYTHONPATH=str(Path(__file__).resolve().parent.parent))
        project = Path(tmp) / "proj"
        built = json.loads(_tinykit("build", str(model), "--board", "qemu-m4", "-o",
                                    str(project), "--compile", "--json", env=env))
        try:
            port = json.loads(_tinykit("flash", str(project), "--board", "qemu-m4", "--json",
                                       env=env))["port"]
            result = json.loads(_tinykit("test", str(model), "--port", port, "--samples",
                                         str(samples), "--timeout", "120", "--json",
                                         env=env))
        finally:
            subprocess.run([sys.executable, "-m", "tinykit", "flash", "--board", "qemu-m4",
                            "--stop"], env=env, capture_output=True, timeout=60)
    compiled = built.get("compile") or built
    flash = compiled.get("flash_bytes", "?")
    return (f"| {name} | icount {icount} | {'yes' if result.get('bit_exact') else 'NO'} | "
            f"{_fmt(result.get('latency_us'))} | {_fmt(result.get('throughput_per_s'))} | "
            f"{flash} |")


def _fmt(v: object) -> str:
    if isinstance(v, dict):
        v = v.get("mean", v.get("median", v))
    return f"{v:.1f}" if isinstance(v, float | int) else str(v)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(sorted(SPECS)))
    ap.add_argument("--no-host", action="store_true")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--icount", default="0")
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "tinykit-perf")
    args = ap.parse_args()
    names = [n for n in args.models.split(",") if n]
    if not args.no_host:
        print("| model | bit-exact | AOT us | TFLM us | AOT/TFLM | AOT RAM B | flash B |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(host_rows(names, args.dir)), flush=True)
    if not args.no_qemu:
        print("\n| model | qemu-m4 | bit-exact | device latency us | inferences/s | flash B |")
        print("|---|---|---|---|---|---|")
        for icount in args.icount.split(","):
            print(qemu_row("ds_cnn", args.dir, icount, args.samples), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
