"""`tinykit build`: model -> (quantize) -> analyze + budget -> project -> (pio build).

Each step's figures are recorded in the report as soon as they are measured,
and the report is written into the project folder (``tinykit-build.json``)
even when a later step fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinykit.boards import Board, resolve
from tinykit.errors import ExitCode, ModelError, TinykitError
from tinykit.graph import model_hash, parse_tflite
from tinykit.project.render import ProjectSpec, render_project
from tinykit.project.write import WriteReport, write_project

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
    force: bool = False


@dataclass
class BuildReport:
    board: str
    runtime: str
    project_dir: Path
    steps: dict[str, Any] = field(default_factory=dict)
    exit_code: int = ExitCode.OK
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"board": self.board, "runtime": self.runtime, "project_dir": str(self.project_dir),
                "ok": self.exit_code == ExitCode.OK, "exit_code": int(self.exit_code),
                "problem": self.problem, **self.steps}

    def save(self) -> None:
        if self.project_dir.is_dir():
            (self.project_dir / REPORT).write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")


def default_dir(model: Path, board: Board) -> Path:
    return Path("build") / f"{model.stem}-{board.id}"


def load_model_bytes(config: BuildConfig, report: BuildReport, say: Callable[[str], None]) -> bytes:
    """The int8 .tflite: read it, or quantize a Keras/SavedModel with --data."""
    model = Path(config.model)
    if not model.exists():
        raise ModelError(f"{model}: no such file or directory")
    if model.suffix.lower() == ".tflite":
        return model.read_bytes()
    if model.suffix.lower() not in KERAS_SUFFIXES and not model.is_dir():
        raise ModelError(f"{model}: expected a .tflite, .keras, .h5 or SavedModel folder")
    if config.data is None:
        raise ModelError(f"{model} is a float model: --data CALIB.npy is needed to quantize it",
                         hint="or pass an int8 .tflite")
    from tinykit.quantize.api import QuantizeConfig, quantize

    say(f"quantizing {model.name} with {config.data} ...")
    result = quantize(model, config.data, QuantizeConfig())
    report.steps["quantize"] = result.to_dict()
    return result.tflite


def build(config: BuildConfig, say: Callable[[str], None] = lambda s: None) -> BuildReport:
    board = resolve(config.board)
    model_path = Path(config.model)
    out = Path(config.out_dir) if config.out_dir else default_dir(model_path, board)
    report = BuildReport(board.id, config.runtime, out)
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
    graph = parse_tflite(model_bytes, Path(config.model).stem)
    report.steps["model"] = {"name": graph.name, "hash": model_hash(model_bytes),
                             "bytes": len(model_bytes), "ops": len(graph.ops)}

    analysis = analyze(model_bytes, AnalyzeConfig(board, config.runtime), name=graph.name)
    report.steps["analyze"] = analysis.to_dict()
    if not analysis.ok:
        report.exit_code = ExitCode.CHECK_FAILED
        report.problem = analysis.verdict
        if not config.force:
            say(f"stopped: {analysis.verdict} (use --force to build anyway)")
            return
        say(f"warning: {analysis.verdict}; building anyway (--force)")

    spec = ProjectSpec(graph=graph, model_bytes=model_bytes, model_file=Path(config.model).with_suffix(".tflite").name,
                       board=board, runtime=config.runtime, protocol=config.protocol,
                       arena=config.arena, tflm_arena_bytes=analysis.tflm_arena_bytes or 0,
                       dir_hint=str(out))
    rendered = render_project(spec)
    written: WriteReport = write_project(rendered.files, out)
    report.steps["project"] = {"dir": str(out), "files": len(rendered.files),
                               "ram_bytes": rendered.ram_bytes, "flash_bytes": rendered.flash_bytes,
                               "created": list(written.created), "replaced": list(written.replaced),
                               "removed": list(written.removed), "summary": written.summary,
                               "notes": list(rendered.notes)}
    report.save()
    say(f"project {out}: {written.summary}")

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
