"""`tinykit build`: thin command over :func:`tinykit.project.api.build`."""

from __future__ import annotations

from pathlib import Path

import click

from tinykit.output import note, out, print_json
from tinykit.project.api import BuildConfig
from tinykit.project.api import build as run_build


@click.command("build")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--board", "-b", required=True, help="Board id or alias (see `tinykit boards`), or a profile .toml.")
@click.option("--data", type=click.Path(path_type=Path), help="Calibration data (.npy/.npz) to quantize a Keras model.")
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), help="Project folder [build/<model>-<board>].")
@click.option("--runtime", type=click.Choice(["aot", "tflm"]), default="aot", show_default=True)
@click.option("--protocol", type=click.Choice(["tinykit", "eembc"]), default="tinykit", show_default=True,
              help="Serial protocol of the firmware: tinykit's framed protocol or MLPerf Tiny's runner protocol.")
@click.option("--arena", type=click.Choice(["sram", "psram"]), default="sram", show_default=True,
              help="Where the arena lives (psram: ESP32-S3 only, slower).")
@click.option("--compile", "do_compile", is_flag=True, help="Run `pio run` and check the firmware's RAM/flash.")
@click.option("--force", is_flag=True, help="Build even when the model is over budget.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def build(ctx: click.Context, model: Path, board: str, data: Path | None, out_dir: Path | None,
          runtime: str, protocol: str, arena: str, do_compile: bool, force: bool, as_json: bool) -> None:
    """Build a complete PlatformIO firmware project for MODEL on a board.

    MODEL is an int8 .tflite, or a .keras/.h5/SavedModel quantized on the way (needs --data).

    \b
    Example:
      tinykit build kws.keras --board esp32s3 --data calib.npy
      tinykit build kws.tflite --board qemu-m4 --compile && tinykit flash --board qemu-m4
    """
    if arena == "psram":
        note("[yellow]warning:[/] --arena psram: the arena is in external PSRAM, several times slower than SRAM")
    config = BuildConfig(model, board, data, out_dir, runtime, protocol, arena, do_compile, force)
    report = run_build(config, say=note)
    if as_json:
        print_json(report.to_dict())
    else:
        _print(report.to_dict())
    ctx.exit(report.exit_code)


def _print(r: dict) -> None:
    a = r.get("analyze", {})
    budget = a.get("budget", {})
    for kind in ("ram", "flash"):
        b = budget.get(kind)
        if b:
            color = "green" if b.get("fits") else "red"
            out.print(f"{kind.upper():5} model {b['used']:>9} B of {b['budget']:>9} B budget  "
                      f"[{color}]{'fits' if b.get('fits') else 'OVER'}[/] (headroom {b['headroom']} B, "
                      f"{b['headroom_pct']:.1f}%)")
    p = r.get("project")
    if p:
        out.print(f"project  {p['dir']}  ({p['summary']})")
    c = r.get("compile")
    if c:
        out.print(f"firmware RAM {c['ram_bytes']} / {c['ram_total']} B, flash {c['flash_bytes']} / "
                  f"{c['flash_total']} B  ({c['seconds']} s)")
    if r.get("problem"):
        out.print(f"[red]{r['problem']}[/]")
