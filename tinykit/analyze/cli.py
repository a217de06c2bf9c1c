"""``tinykit analyze MODEL.tflite --board ID``: thin command over :func:`analyze`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich import box
from rich.table import Table

from tinykit.analyze.api import RUNTIMES, Analysis, AnalyzeConfig
from tinykit.analyze.api import analyze as run_analysis
from tinykit.errors import ExitCode, help_epilog
from tinykit.graph import short_layer_name
from tinykit.output import err, file_hash, human_bytes, out, print_json

EPILOG = help_epilog(
    ["tinykit analyze kws.tflite --board nucleo-l4r5zi",
     "tinykit analyze kws.tflite --board my-board.toml --runtime tflm --json"],
    "over the RAM or flash budget, or an op the runtime cannot run",
    "bad or float model file, unknown board")


def _shape(shape: tuple[int, ...]) -> str:
    """
    >>> _shape((1, 49, 10, 1))
    '1x49x10x1'
    """
    return "x".join(str(d) for d in shape) or "scalar"


WIDE = 110  # below this many columns the table drops its borders and the input shapes


def _layers_table(a: Analysis, width: int) -> Table:
    """The per-layer table; readable at 80 columns and in logs (no column shrinks to
    nothing: the numbers never wrap, the layer name is shortened)."""
    wide = width >= WIDE
    t = Table(title=f"{a.model}: {len(a.layers)} layers ({a.runtime} runtime)", title_justify="left",
              box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD, pad_edge=wide,
              padding=(0, 1), collapse_padding=not wide)
    cols = [("#", True), ("layer", False), ("op", False), ("v", True)]
    cols += [("in", False)] if wide else []
    cols += [("out", False), ("params", True), ("MACs", True), ("act. B", True)]
    for col, right in cols:
        t.add_column(col, justify="right" if right else "left", no_wrap=True, min_width=len(col),
                     overflow="ellipsis")
    name_width = 28 if wide else max(8, min(20, width - 67))
    for x in a.layers:
        op = x.op if not x.folded else f"{x.op}({' '.join(f.split()[0] for f in x.folded[1:-1])})"
        op = op if x.supported else f"[red]{op}[/]"
        row = [str(x.index), short_layer_name(x.name, name_width), op, str(x.version)]
        row += [" ".join(map(_shape, x.input_shapes))] if wide else []
        row += [_shape(x.output_shape), f"{x.params:,}", f"{x.macs:,}", f"{x.activation_bytes:,}"]
        t.add_row(*row)
    t.add_section()
    total = ["", "total", "", ""] + ([""] if wide else [])
    t.add_row(*total, "", f"{a.totals.params:,}", f"{a.totals.macs:,}", "")
    return t


def _budget_line(kind: str, b: Any) -> str:
    if not b.known:
        return f"{kind:5} {'unknown':>11} of {b.budget:>9,} B  [red]UNKNOWN[/] (the runtime cannot run it)"
    color, word = ("green", "fits") if b.fits else ("red", "OVER")
    return (f"{kind:5} {b.used:>9,} B of {b.budget:>9,} B  [{color}]{word}[/]  "
            f"headroom {b.headroom:,} B ({b.headroom_pct:.1f}%)")


def _print(a: Analysis) -> None:
    out.print(_layers_table(a, out.width))
    m = a.memory
    tflm = "n/a (TFLM cannot run it)" if m.tflm_arena_bytes is None else human_bytes(m.tflm_arena_bytes)
    out.print(f"RAM    aot arena {human_bytes(m.aot_ram_bytes)} (greedy plan), "
              f"tflm arena {tflm} (measured)")
    if a.runtime == "aot":
        out.print(f"stack  {human_bytes(m.stack_bytes)} {m.stack_method} (kernels; "
                  f"RAM = aot arena + stack)")
    how = {"measured": "model + kernels linked with arm-none-eabi-gcc -Os",
           "estimated": "an upper bound" if a.runtime == "aot" else "model data + runtime code"}
    out.print(f"flash  {human_bytes(m.flash_bytes)} {m.flash_method} ({how[m.flash_method]})")
    out.print(f"board  {a.board}")
    out.print(_budget_line("RAM", a.ram))
    out.print(_budget_line("flash", a.flash))
    for u in a.unsupported:
        out.print(f"[red]unsupported[/] {u}")
    out.print(f"[{'green' if a.ok else 'red'}]{a.verdict}[/]")


@click.command(epilog=EPILOG)
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--board", "-b", "board", required=True,
              help="Board id or alias (see `tinykit boards`), or a board profile .toml.")
@click.option("--runtime", type=click.Choice(RUNTIMES), default="aot", show_default=True,
              help="aot: tinykit's generated C; tflm: TensorFlow Lite Micro.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report to stdout.")
@click.pass_context
def analyze(ctx: click.Context, model: Path, board: str, runtime: str, as_json: bool) -> None:
    """Per-layer MACs/params, op support, RAM and flash of an int8 MODEL.tflite
    against a board's budget."""
    result = run_analysis(model, AnalyzeConfig(board, runtime))
    if as_json:
        report = result.to_dict()
        report["name"] = report.pop("model")
        print_json(report, model=str(model), model_hash=file_hash(model),
                   exit_code=ExitCode.OK if result.ok else ExitCode.CHECK_FAILED)
    else:
        _print(result)
        if not result.ok:
            hint = f" ({result.hint})" if result.hint else ""
            err.print(f"tinykit: check failed: {result.verdict}{hint}", markup=False)
    ctx.exit(ExitCode.OK if result.ok else ExitCode.CHECK_FAILED)
