"""`tinykit build`: model -> (quantize) -> analyze + budget -> project -> (pio build).

Each step's figures are recorded in the report as soon as they are measured,
and the report is written into the project folder (``tinykit-build.json``)
even when a later step fails.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinykit.boards import Board, resolve
from tinykit.errors import ExitCode, ModelError, ProjectError, TinykitError
from tinykit.graph import model_hash, parse_tflite
from tinykit.project.eembc import buffer_bytes as eembc_buffer_bytes
from tinykit.project.render import ProjectSpec, render_project
from tinykit.project.write import WriteReport, write_project

if TYPE_CHECKING:
    from tinykit.analyze.api import Analysis

REPORT = "tinykit-build.json"
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


@dataclass(frozen=True)
class BuildConfig:
    model: Path
    board: str | Board  # an id, an alias, a profile .toml path, or a Board
    data: Path | None = None
    out_dir: Path | None = None
    runtime: str = "aot"
    protocol: str = "tinykit"
    arena: str = "sram"
    compile: bool = False
    force: bool = False  # a failed check (budget, agreement) is a warning: the project is written
    min_agreement: float | None = None  # with --data: the least top-1 (cosine) agreement
    eembc_task: str = "auto"  # --protocol eembc: the MLPerf Tiny task (key), or detect it


@dataclass
class BuildReport:
    board: str
    runtime: str
    project_dir: Path
    steps: dict[str, Any] = field(default_factory=dict)
    exit_code: int = ExitCode.OK
    problem: str = ""
    warnings: list[str] = field(default_factory=list)  # checks that failed under --force
    model: str = ""  # the MODEL argument
    model_hash: str | None = None  # of the int8 .tflite the project runs

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "model_hash": self.model_hash,
                "board": self.board, "runtime": self.runtime, "project_dir": str(self.project_dir),
                "ok": self.exit_code == ExitCode.OK, "exit_code": int(self.exit_code),
                "problem": self.problem, "warnings": list(self.warnings), **self.steps}

    def check_failed(self, problem: str, force: bool, say: Callable[[str], None]) -> bool:
        """A failed check: without --force the build stops (exit 1); with it the
        problem is a warning and the build goes on (exit 0). True: go on."""
        if force:
            self.warnings.append(problem)
            say(f"warning: {problem}; building anyway (--force)")
            return True
        self.exit_code = ExitCode.CHECK_FAILED
        self.problem = problem
        say(f"stopped: {problem} (use --force to build anyway)")
        return False

    def save(self) -> None:
        """Write the report into the project, only one tinykit generated (its manifest is
        there): a foreign folder is left exactly as it was."""
        from tinykit.output import report_dict
        from tinykit.project.write import MANIFEST

        if (self.project_dir / MANIFEST).is_file():
            text = json.dumps(report_dict(self.to_dict()), indent=2, default=str)
            (self.project_dir / REPORT).write_text(text + "\n")


def default_dir(model: Path, board: Board) -> Path:
    return Path("build") / f"{model.stem}-{board.id}"


def load_model_bytes(config: BuildConfig, report: BuildReport,
                     say: Callable[[str], None]) -> bytes | None:
    """The int8 .tflite: read it, or quantize a Keras/SavedModel with --data
    (None: the agreement is below --min-agreement, the build stops)."""
    model = Path(config.model)
    if not model.exists():
        raise ModelError(f"{model}: no such file or directory")
    if model.suffix.lower() == ".tflite":
        if config.min_agreement is not None:
            raise ModelError(f"--min-agreement: {model.name} is already int8, there is no float "
                             "model to compare it with",
                             hint="build from the Keras model with --data, or drop --min-agreement")
        if model.is_dir():
            raise ModelError(f"{model}: a directory, not a .tflite file",
                             hint="pass the .tflite file itself")
        try:
            return model.read_bytes()
        except OSError as exc:
            raise ModelError(f"{model}: cannot read: {exc.strerror}") from None
    if model.suffix.lower() not in KERAS_SUFFIXES and not model.is_dir():
        raise ModelError(f"{model}: expected a .tflite, .keras, .h5 or SavedModel folder")
    if config.data is None:
        raise ModelError(f"{model} is a float model: --data CALIB.npy is needed to quantize it",
                         hint="or pass an int8 .tflite")
    from tinykit.quantize.api import QuantizeConfig, quantize

    say(f"quantizing {model.name} with {config.data} ...")
    result = quantize(model, config.data, QuantizeConfig())
    report.steps["quantize"] = result.to_dict()
    for w in result.warnings:
        say(f"warning: {w}")
    a = result.agreement
    say(f"agreement (float vs int8): {agreement_line(a.to_dict())}")
    if config.min_agreement is not None and not a.score >= config.min_agreement:
        problem = (f"{a.metric} agreement {a.score:.4f} is below --min-agreement "
                   f"{config.min_agreement}")
        if not report.check_failed(problem, config.force, say):
            return None
    return result.tflite


def agreement_line(a: dict[str, Any]) -> str:
    """quantize's agreement figures in one line.

    >>> agreement_line({"kind": "top1", "samples": 10, "on": "holdout", "top1": 0.9,
    ...                 "rmse": 0.01, "cosine": 0.99})
    'top-1 0.9000, cosine 0.990000, rmse 0.010000 on 10 held-back samples'
    """
    def fmt(v: float | None, digits: int) -> str:
        return "-" if v is None else f"{v:.{digits}f}"

    on = "held-back" if a.get("on") == "holdout" else "calibration"
    head = f"top-1 {fmt(a.get('top1'), 4)}, " if a.get("kind") == "top1" else ""
    return (f"{head}cosine {fmt(a.get('cosine'), 6)}, rmse {fmt(a.get('rmse'), 6)} "
            f"on {a.get('samples')} {on} samples")


def check_arena(board: Board, arena: str) -> None:
    """``--arena psram`` needs a board with PSRAM."""
    if arena == "psram" and not board.memory.psram_bytes:
        raise ProjectError(f"--arena psram: {board.id} has no PSRAM",
                           hint="drop --arena psram to keep the arena in internal SRAM")


# RAM the serial protocol adds to a built firmware, besides the model: its static buffers
# (arm-none-eabi-size of firmware/src/link/: tk_protocol.c 828 B of .bss, tk_eembc.c 176 B)
# and its frames above tk_model_invoke (under 256 B), rounded up;
# tests/test_stack.py::test_protocol_ram_covers_the_link_code checks the table. EEMBC's
# runner also needs the db buffer the input lands in (PROTOCOL_INPUT_COPIES x the main's
# buffers: tinykit.project.eembc.buffer_bytes, e.g. ad01's float32 db bytes + quantized input).
PROTOCOL_RAM_BYTES = {"tinykit": 1280, "eembc": 512}
PROTOCOL_INPUT_COPIES = {"tinykit": 0, "eembc": 1}


def with_protocol(analysis: Analysis, board: Board, protocol: str, input_bytes: int) -> Analysis:
    """``build``: the analysis with the protocol's buffers in the RAM figure and the budget
    (RAM = arena + kernel stack + protocol buffers); TFLM's unknown RAM stays unknown."""
    from tinykit.analyze.api import Budget

    extra = PROTOCOL_RAM_BYTES.get(protocol, 0) + PROTOCOL_INPUT_COPIES.get(protocol, 0) * input_bytes
    memory = dataclasses.replace(analysis.memory, protocol_bytes=extra,
                                 ram_bytes=analysis.memory.ram_bytes + extra)
    ram = (Budget.of(memory.ram_bytes, board.memory.ram_budget) if analysis.ram.known
           else analysis.ram)
    return dataclasses.replace(analysis, memory=memory, ram=ram)


def psram_budget(analysis: Analysis, board: Board) -> tuple[bool, str, dict[str, Any]]:
    """``--arena psram``: (ok, verdict, analysis dict) with the arena checked against the
    board's PSRAM and the rest of the model's RAM against the SRAM budget. The arena holds
    every tensor and the kernels' scratch (AOT) or all of TFLM's tensors, so the model's rest
    in SRAM is the kernels' stack and the protocol's buffers; the SRAM budget still carries
    the framework's reserve."""
    from tinykit.analyze.api import Budget

    if not analysis.ram.known:  # the runtime cannot run the model: nothing to place
        return analysis.ok, analysis.verdict, analysis.to_dict()
    m = analysis.memory
    arena = m.ram_bytes - m.stack_bytes - m.protocol_bytes
    in_sram = dataclasses.replace(analysis, ram=Budget.of(analysis.memory.ram_bytes - arena,
                                                          board.memory.ram_budget))
    psram = Budget.of(arena, board.memory.psram_bytes)
    ok, verdict = in_sram.ok and psram.fits, in_sram.verdict
    if not psram.fits:
        problem = (f"PSRAM over budget on {board.id}: the arena needs {psram.used} B, "
                   f"PSRAM {psram.budget} B ({-psram.headroom} B over)")
        verdict = problem if in_sram.ok else f"{verdict}; {problem}"
    d = in_sram.to_dict()
    d["budget"]["psram"] = dataclasses.asdict(psram)
    d.update(ok=ok, verdict=verdict, arena="psram")
    return ok, verdict, d


def build(config: BuildConfig, say: Callable[[str], None] = lambda s: None) -> BuildReport:
    board = resolve(config.board)
    check_arena(board, config.arena)  # the error alone, before any warning
    if config.arena == "psram":
        say("warning: --arena psram: the arena is in external PSRAM, several times slower than SRAM")
    model_path = Path(config.model)
    out = Path(config.out_dir) if config.out_dir else default_dir(model_path, board)
    report = BuildReport(board.id, config.runtime, out, model=str(model_path))
    try:
        _build(config, board, out, report, say)
    except TinykitError as exc:
        report.exit_code = exc.exit_code
        report.problem = exc.format_message()
        report.save()
        raise
    report.save()
    return report


def _build(config: BuildConfig, board: Board, out: Path, report: BuildReport,
           say: Callable[[str], None]) -> None:
    from tinykit.analyze.api import AnalyzeConfig, analyze

    model_bytes = load_model_bytes(config, report, say)
    if model_bytes is None:
        return
    graph = parse_tflite(model_bytes, Path(config.model).stem)
    report.model_hash = model_hash(model_bytes)
    report.steps["model_info"] = {"name": graph.name, "bytes": len(model_bytes), "ops": len(graph.ops)}

    analysis = analyze(model_bytes, AnalyzeConfig(board, config.runtime), name=graph.name)
    analysis = with_protocol(analysis, board, config.protocol, eembc_buffer_bytes(graph, config.eembc_task))
    ok, verdict, analyzed = analysis.ok, analysis.verdict, analysis.to_dict()
    if config.arena == "psram":
        ok, verdict, analyzed = psram_budget(analysis, board)
    report.steps["analyze"] = analyzed
    if analysis.unsupported:  # --force cannot help: the runtime has no kernel to build with
        from tinykit.errors import UnsupportedOpError
        from tinykit.ops import unsupported_hint, unsupported_message

        raise UnsupportedOpError(unsupported_message(config.runtime, analysis.unsupported),
                                 hint=unsupported_hint(config.runtime, graph.ops))
    if not ok and not report.check_failed(verdict, config.force, say):
        return

    spec = ProjectSpec(graph=graph, model_bytes=model_bytes, model_file=Path(config.model).with_suffix(".tflite").name,
                       board=board, runtime=config.runtime, protocol=config.protocol,
                       arena=config.arena, tflm_arena_bytes=analysis.tflm_arena_bytes or 0,
                       dir_hint=str(out), eembc_task=config.eembc_task)
    rendered = render_project(spec)
    written: WriteReport = write_project(rendered.files, out)
    report.steps["project"] = {"dir": str(out), "files": len(rendered.files),
                               "ram_bytes": rendered.ram_bytes, "flash_bytes": rendered.flash_bytes,
                               "created": list(written.created), "replaced": list(written.replaced),
                               "removed": list(written.removed), "summary": written.summary,
                               "notes": list(rendered.notes)}
    if config.protocol == "eembc":
        report.steps["project"]["eembc_task"] = rendered.eembc_task
        say(f"MLPerf Tiny task: {rendered.eembc_task or 'none (raw input bytes; see --eembc-task)'}")
    report.save()
    say(f"project {out}: {written.summary}")
    write_html_report(model_bytes, graph.name, analysis, board, out, report, say)

    if config.compile:
        from tinykit.pio.api import build as pio_build

        say("compiling with PlatformIO (pio run) ...")
        result = pio_build(out)
        ram_budget = board.memory.ram_bytes
        flash_budget = board.memory.flash_bytes
        report.steps["compile"] = {
            "elf": str(result.elf), "ram_bytes": result.ram_bytes, "flash_bytes": result.flash_bytes,
            "ram_total": ram_budget, "flash_total": flash_budget,
            "ram_fits": result.ram_bytes <= ram_budget, "flash_fits": result.flash_bytes <= flash_budget,
            "seconds": round(result.seconds, 2),
        }
        if result.ram_bytes > ram_budget or result.flash_bytes > flash_budget:
            report.exit_code = ExitCode.CHECK_FAILED
            report.problem = (f"firmware over the board's memory: RAM {result.ram_bytes}/{ram_budget}, "
                              f"flash {result.flash_bytes}/{flash_budget} bytes")


HTML_REPORT = "report.html"


def write_html_report(model_bytes: bytes, name: str, analysis: Analysis, board: Board, out: Path,
                      report: BuildReport, say: Callable[[str], None]) -> None:
    """``report.html`` in the project (summary, layers, memory plan, the board's budgets).
    Best effort: a report that cannot be drawn is a warning, recorded under
    ``"report"`` in the build JSON; it never fails the build."""
    try:
        from tinykit.report.api import ReportConfig, write_report

        result = write_report(model_bytes, ReportConfig(board=board, runtime=analysis.runtime),
                              out / HTML_REPORT, name=name, analysis=analysis)
        report.steps["report"] = {"path": str(result.path), "bytes": result.bytes,
                                  "seconds": round(result.seconds, 2), "error": None}
        say(f"report {result.path}")
    except Exception as exc:  # noqa: BLE001 - the page is an extra: the build goes on without it
        why = " ".join(str(exc).split()) or type(exc).__name__
        say(f"warning: {HTML_REPORT} not written: {why}")
        report.steps["report"] = {"path": None, "error": f"{type(exc).__name__}: {why}"}
    report.save()
