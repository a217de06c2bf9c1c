"""Build and upload firmware projects with PlatformIO, offline.

Emulated boards use the ``tinykit-qemu`` dev platform shipped in
``firmware/platform`` (no registry download: ``tool-scons`` is seeded from the
PyPI ``scons``); their upload target starts QEMU (:mod:`tinykit.pio.qemu`).
Real boards need their PlatformIO platform installed beforehand; when it is
missing tinykit says so at once instead of letting ``pio`` try the network.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tinykit.boards import Board, all_boards
from tinykit.errors import BoardError, ProjectError, ToolError
from tinykit.pio import qemu
from tinykit.pio.scons import ensure_tool_scons, platforms_dir
from tinykit.resources import firmware_dir

QEMU_PLATFORM = "tinykit-qemu"
PIO_TIMEOUT_S = 600
_USAGE = re.compile(r"^(RAM|Flash):\s+\[.*\]\s+[\d.]+% \(used (\d+) bytes from (\d+) bytes\)", re.M)
_ERROR_LINE = re.compile(r"(error:|Error:|\*\*\* |undefined reference|region .* overflowed)")
_URL = re.compile(r"socket://127\.0\.0\.1:\d+")


@dataclass(frozen=True)
class BuildResult:
    elf: Path
    ram_bytes: int  # data + bss (stack included)
    flash_bytes: int  # text + data
    ram_max: int
    flash_max: int
    seconds: float
    log: str


@dataclass(frozen=True)
class UploadResult:
    board: str  # tinykit board id
    port: str | None  # pyserial URL for emulated boards, serial port (or None) for real ones
    pid: int | None  # the emulator's pid
    elf: Path
    seconds: float
    log: str


@dataclass(frozen=True)
class ProjectEnv:
    """One ``[env:NAME]`` of a project's platformio.ini."""

    project_dir: Path
    name: str
    platform: str  # as written: a registry name or a folder
    pio_board: str
    board: Board | None  # the tinykit profile, when one matches

    @property
    def is_local_platform(self) -> bool:
        return Path(self.platform).is_absolute() or self.platform.startswith((".", "file://"))

    @property
    def build_dir(self) -> Path:
        return self.project_dir / ".pio" / "build" / self.name


def platform_dir() -> Path:
    """The tinykit-qemu PlatformIO dev platform (``firmware/platform``)."""
    return firmware_dir() / "platform"


def qemu_upload_command(board_id: str) -> str:
    """The platformio.ini ``upload_command`` that starts a board's emulator."""
    return f'"{sys.executable}" -m tinykit.pio.qemu start --board {board_id} --elf "$SOURCE"'


def pio_command() -> list[str]:
    """The PlatformIO executable next to this Python, else ``python -m platformio``."""
    bindir = Path(sys.executable).parent
    for name in ("pio", "platformio"):
        exe = bindir / name
        if exe.is_file() and os.access(exe, os.X_OK):
            return [str(exe)]
    return [sys.executable, "-m", "platformio"]


def pio_env() -> dict[str, str]:
    """Environment for ``pio``: no telemetry, no upgrade checks, no colour, and
    tinykit importable by the upload command."""
    env = dict(os.environ)
    env.update(
        PLATFORMIO_SETTING_ENABLE_TELEMETRY="no",
        PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL="3650",
        PLATFORMIO_DISABLE_UPGRADE_CHECK="true",
        PLATFORMIO_NO_ANSI="true",
        PYTHONUNBUFFERED="1",
    )
    root = str(Path(__file__).resolve().parents[2])
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        env["PYTHONPATH"] = os.pathsep.join([root, *paths])
    return env


# --- platformio.ini -------------------------------------------------------------


def _platform_name(spec: str) -> str:
    """Registry name of a platform spec.

    >>> _platform_name("platformio/espressif32@^6.5.0")
    'espressif32'
    >>> _platform_name("ststm32")
    'ststm32'
    """
    return spec.split("@", 1)[0].strip().rsplit("/", 1)[-1]


def _tinykit_board(env_name: str, platform: str, pio_board: str, local: bool) -> Board | None:
    boards = all_boards()
    want = QEMU_PLATFORM if local else _platform_name(platform)
    for b in boards:
        if b.id == env_name and b.platformio.board == pio_board:
            return b
    for b in boards:
        if b.platformio.board == pio_board and b.platformio.platform == want:
            return b
    return None


def read_project(project_dir: Path | str, environment: str | None = None) -> ProjectEnv:
    """The chosen (or only) environment of a PlatformIO project."""
    project_dir = Path(project_dir).resolve()
    ini = project_dir / "platformio.ini"
    if not ini.is_file():
        raise ProjectError(
            f"{project_dir} is not a PlatformIO project (no platformio.ini)",
            hint="create one with `tinykit build`",
        )
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini)
    except configparser.Error as exc:
        raise ProjectError(f"{ini}: cannot parse: {str(exc).splitlines()[0]}") from None
    envs = [s[len("env:") :] for s in parser.sections() if s.startswith("env:")]
    if environment is None:
        if len(envs) != 1:
            raise ProjectError(
                f"{ini} has {len(envs)} environments ({', '.join(envs) or 'none'})",
                hint="choose one with --board",
            )
        environment = envs[0]
    if environment not in envs:
        raise ProjectError(f"{ini} has no [env:{environment}]", hint=f"environments: {', '.join(envs) or 'none'}")
    section = parser[f"env:{environment}"]
    platform, pio_board = section.get("platform", "").strip(), section.get("board", "").strip()
    if not platform or not pio_board:
        raise ProjectError(f"{ini}: [env:{environment}] needs 'platform' and 'board'")
    local = Path(platform).is_absolute() or platform.startswith((".", "file://"))
    board = _tinykit_board(environment, platform, pio_board, local)
    return ProjectEnv(project_dir, environment, platform, pio_board, board)


def _check_platform(penv: ProjectEnv) -> None:
    if penv.is_local_platform:
        path = Path(penv.platform.removeprefix("file://"))
        if not path.is_absolute():
            path = penv.project_dir / path
        if not (path / "platform.json").is_file():
            raise ProjectError(
                f"platform folder {path} has no platform.json",
                hint=f"use platform = {platform_dir()}",
            )
        return
    name = _platform_name(penv.platform)
    if not (platforms_dir() / name / "platform.json").is_file():
        raise ToolError(
            f"PlatformIO platform '{name}' is not installed",
            hint=f"connect to the internet and run: pio pkg install -g -p {name}",
        )


# --- running pio ----------------------------------------------------------------


def _run_pio(penv: ProjectEnv, targets: list[str], extra: list[str], log_name: str, verbose: bool) -> tuple[str, float]:
    _check_platform(penv)
    if shutil.which("arm-none-eabi-gcc") is None and penv.is_local_platform:
        raise ToolError(
            "arm-none-eabi-gcc is not installed",
            hint="sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi",
        )
    ensure_tool_scons()
    cmd = [*pio_command(), "run", "-d", str(penv.project_dir), "-e", penv.name]
    for t in targets:
        cmd += ["-t", t]
    cmd += extra
    if verbose:
        cmd.append("-v")
    log_path = penv.project_dir / ".pio" / log_name
    log_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            env=pio_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=PIO_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise ToolError("PlatformIO is not installed", hint="pip install platformio") from None
    except subprocess.TimeoutExpired:
        raise ToolError(f"pio run did not finish in {PIO_TIMEOUT_S} s") from None
    seconds = time.monotonic() - t0
    log_path.write_text(proc.stdout)
    if proc.returncode != 0:
        lines = proc.stdout.splitlines()
        first = next((ln.strip() for ln in lines if _ERROR_LINE.search(ln)), None)
        first = first or next((ln.strip() for ln in reversed(lines) if ln.strip()), "no output")
        what = "build" if targets == [] else " ".join(targets)
        raise ToolError(f"pio run ({what}) failed: {first}", hint=f"full log: {log_path}")
    return proc.stdout, seconds


def _size(elf: Path) -> tuple[int, int] | None:
    """(ram, flash) from ``arm-none-eabi-size -B``: (data+bss, text+data)."""
    tool = shutil.which("arm-none-eabi-size")
    if tool is None:
        return None
    out = subprocess.run([tool, "-B", "-d", str(elf)], capture_output=True, text=True, check=False)
    match = re.search(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s", out.stdout, re.M)
    if out.returncode != 0 or not match:
        return None
    text, data, bss = (int(g) for g in match.groups())
    return data + bss, text + data


def build(project_dir: Path | str, *, verbose: bool = False, environment: str | None = None) -> BuildResult:
    """``pio run`` one environment; sizes from the ELF and PlatformIO's usage lines."""
    penv = read_project(project_dir, environment)
    log, seconds = _run_pio(penv, [], [], "tinykit-build.log", verbose)
    elf = penv.build_dir / "firmware.elf"
    if not elf.is_file():
        raise ToolError(f"pio run succeeded but {elf} is missing", hint="the platform must name its program 'firmware'")
    usage = {kind: (int(used), int(total)) for kind, used, total in _USAGE.findall(log)}
    sizes = _size(elf)
    ram, flash = sizes if sizes else (usage.get("RAM", (0, 0))[0], usage.get("Flash", (0, 0))[0])
    ram_max = usage.get("RAM", (0, penv.board.memory.ram_bytes if penv.board else 0))[1]
    flash_max = usage.get("Flash", (0, penv.board.memory.flash_bytes if penv.board else 0))[1]
    return BuildResult(elf, ram, flash, ram_max, flash_max, seconds, log)


def upload(project_dir: Path | str, *, port: str | None = None, environment: str | None = None) -> UploadResult:
    """``pio run -t upload`` (builds first when needed). For an emulated board
    this starts QEMU; ``port`` of the result is its pyserial URL."""
    penv = read_project(project_dir, environment)
    emulated = penv.board is not None and penv.board.emulated
    if penv.is_local_platform and not emulated:
        raise BoardError(
            f"[env:{penv.name}] uses a local platform but board '{penv.pio_board}' is not a tinykit emulated board",
            hint="use board = mps2_an386 (qemu-m4), mps2_an500 (qemu-m7) or mps2_an505 (qemu-m33)",
        )
    extra = ["--upload-port", port] if port and not emulated else []
    log, seconds = _run_pio(penv, ["upload"], extra, "tinykit-upload.log", False)
    elf = penv.build_dir / "firmware.elf"
    board_id = penv.board.id if penv.board else penv.name
    if not emulated:
        return UploadResult(board_id, port, None, elf, seconds, log)
    assert penv.board is not None
    emu = qemu.running(penv.board)
    if emu is None:
        urls = _URL.findall(log)
        raise ToolError(
            f"upload finished but no {penv.board.id} emulator is running"
            + (f" (pio printed {urls[-1]})" if urls else ""),
            hint=f"check upload_command in platformio.ini; see {qemu.state_dir()}",
        )
    return UploadResult(board_id, emu.url, emu.pid, Path(emu.elf), seconds, log)
