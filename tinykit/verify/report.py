"""Render a :class:`~tinykit.verify.api.VerifyReport` as JSON or a rich table."""

from __future__ import annotations

from rich.table import Table

from tinykit.output import file_hash, human_bytes, out, print_json
from tinykit.verify.api import VerifyReport


def render(report: VerifyReport, as_json: bool) -> None:
    if as_json:
        print_json(report.to_dict(), model_hash=file_hash(report.model), ok=report.bit_exact,
                   exit_code=0 if report.bit_exact else 1)
        return
    verdict = "[green]bit-exact[/]" if report.bit_exact else "[red]MISMATCH[/]"
    t = Table(title=f"tinykit verify {report.model}: {verdict}", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("samples", str(report.samples))
    t.add_row("mismatching samples", str(len(report.mismatches)))
    if not report.bit_exact:
        t.add_row("max abs diff", str(report.max_abs_diff))
        t.add_row("first differing layer", report.first_diff_layer or "?")
    t.add_row("AOT RAM (arena incl. scratch)",
              f"{human_bytes(report.aot_ram_bytes)} (scratch {report.scratch_bytes} B)")
    if report.reference == "tflm":
        t.add_row("TFLM arena", human_bytes(report.tflm_arena_bytes))
        t.add_row("RAM ratio AOT/TFLM", f"{report.ram_ratio:.2f}")
    else:  # TILE: TFLM has no kernel, the reference is TFLite's reference kernels
        t.add_row("TFLM arena", "n/a (TFLM has no kernel for an op; reference: TFLite)")
    t.add_row("flash (code + const)", f"{human_bytes(report.flash_bytes)} ({report.flash_method})")
    ref = "TFLM" if report.reference == "tflm" else "TFLite"
    t.add_row(f"host us/inference AOT | {ref}", f"{report.aot_us:.1f} | {report.tflm_us:.1f}")
    t.add_row("timing", report.timing)
    out.print(t)
