"""`tinykit build`: thin command over :func:`tinykit.project.api.build`."""

from __future__ import annotations

from pathlib import Path

import click

from tinykit.errors import help_epilog
from tinykit.output import note, out, print_json
from tinykit.project.api import BuildConfig, agreement_line
from tinykit.project.api import build as run_build
from tinykit.project.eembc import CHOICES as EEMBC_TASKS

EPILOG = help_epilog(
    ["tinykit build kws.keras --board esp32s3 --data calib.npy --min-agreement 0.95",
     "tinykit build kws.tflite --board qemu-m4 --compile && tinykit flash --board qemu-m4",
     "tinykit build big.tflite --board esp32s3 --arena psram"],
    "unsupported op; over budget, agreement < --min-agreement (these two not with --force)",
    "bad model or data, unknown board, no PSRAM, PlatformIO failed")


@click.command("build", epilog=EPILOG)
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--board", "-b", required=True, help="Board id or alias (see `tinykit boards`), or a profile .toml.")
@click.option("--data", type=click.Path(path_type=Path), help="Calibration data (.npy/.npz) to quantize a Keras model.")
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), help="Project folder [build/<model>-<board>].")
@click.option("--runtime", type=click.Choice(["aot", "tflm"]), default="aot", show_default=True)
@click.option("--protocol", type=click.Choice(["tinykit", "eembc"]), default="tinykit", show_default=True,
              help="Serial protocol of the firmware: tinykit's framed protocol or MLPerf Tiny's runner protocol.")
@click.option("--eembc-task", type=click.Choice(EEMBC_TASKS), default="auto",
              show_default=True, help="With --protocol eembc: the MLPerf Tiny task (the runner's model key and "
              "input/result format); auto detects the four reference models' shapes.")
@click.option("--arena", type=click.Choice(["sram", "psram"]), default="sram", show_default=True,
              help="Where the arena lives (psram: ESP32-S3 only, slower).")
@click.option("--compile", "do_compile", is_flag=True, help="Run `pio run` and check the firmware's RAM/flash.")
@click.option("--min-agreement", type=click.FloatRange(0.0, 1.0), default=None,
              help="With --data: fail (exit 1) when quantize's top-1 agreement (cosine for "
                   "regressions) is below this.")
@click.option("--force", is_flag=True,
              help="Write the project even when the budget or agreement check fails (a warning, "
                   "exit 0); an op the runtime cannot run always stops the build (exit 1).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def build(ctx: click.Context, model: Path, board: str, data: Path | None, out_dir: Path | None,
          runtime: str, protocol: str, arena: str, do_compile: bool, min_agreement: float | None,
          force: bool, as_json: bool, eembc_task: str) -> None:
    """Build a complete PlatformIO firmware project for MODEL on a board.

    MODEL is an int8 .tflite, or a .keras/.h5/SavedModel quantized on the way (needs --data).
    """
    config = BuildConfig(model, board, data, out_dir, runtime, protocol, arena, do_compile, force,
                         min_agreement, eembc_task=eembc_task)
    report = run_build(config, say=note)
    if as_json:
        print_json(report.to_dict())
    else:
        _print(report.to_dict())
    ctx.exit(report.exit_code)


def _print(r: dict) -> None:
    q = r.get("quantize")
    if q:
        out.print(f"agreement (float vs int8) {agreement_line(q['agreement'])}")
    a = r.get("analyze", {})
    budget = a.get("budget", {})
    for kind in ("ram", "psram", "flash"):
        b = budget.get(kind)
        if b and b.get("known", True):
            color = "green" if b.get("fits") else "red"
            label = "SRAM" if kind == "ram" and "psram" in budget else kind.upper()
            out.print(f"{label:5} model {b['used']:>9} B of {b['budget']:>9} B budget  "
                      f"[{color}]{'fits' if b.get('fits') else 'OVER'}[/] (headroom {b['headroom']} B, "
                      f"{b['headroom_pct']:.1f}%)")
    m = a.get("memory", {})
    if a.get("runtime") == "aot" and "stack_bytes" in m:
        out.print(f"RAM   = arena {m['aot_ram_bytes']} B + kernel stack {m['stack_bytes']} B "
                  f"({m['stack_method']}) + protocol {m.get('protocol_bytes', 0)} B")
    p = r.get("project")
    if p:
        out.print(f"project  {p['dir']}  ({p['summary']})")
    c = r.get("compile")
    if c:
        out.print(f"firmware RAM {c['ram_bytes']} / {c['ram_total']} B, flash {c['flash_bytes']} / "
                  f"{c['flash_total']} B  ({c['seconds']} s)")
    for w in r.get("warnings", ()):
        out.print(f"[yellow]warning: {w}[/]")
    if r.get("problem"):
        out.print(f"[red]{r['problem']}[/]")
