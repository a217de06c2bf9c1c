"""Board profiles: one ``boards/<id>.toml`` per board, validated on load.

Every other stage reads boards through :func:`resolve` (what every ``--board``
takes: an id, an alias or a profile ``.toml``) and :func:`all_boards`; nothing
else parses the TOML files.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tinykit.errors import BoardError
from tinykit.resources import boards_dir


@dataclass(frozen=True)
class ExternalMemory:
    kind: str  # "psram", "qspi-flash", "sdram"
    bytes: int
    note: str = ""


@dataclass(frozen=True)
class Memory:
    ram_bytes: int
    flash_bytes: int
    ram_reserve_bytes: int
    flash_reserve_bytes: int
    reserve_note: str
    external: tuple[ExternalMemory, ...] = ()

    @property
    def ram_budget(self) -> int:
        """RAM left to the model after the framework's reserve."""
        return self.ram_bytes - self.ram_reserve_bytes

    @property
    def flash_budget(self) -> int:
        return self.flash_bytes - self.flash_reserve_bytes

    @property
    def psram_bytes(self) -> int:
        """External PSRAM (0 without any): where ``--arena psram`` puts the arena."""
        return sum(m.bytes for m in self.external if m.kind == "psram")


@dataclass(frozen=True)
class PlatformIO:
    platform: str  # a registry name, or "tinykit-qemu" for the shipped dev platform
    board: str
    framework: str
    upload_protocol: str
    monitor_speed: int
    # USB (VID, PID) of the board's serial port(s), as PlatformIO's board manifests
    # "hwids": how --board finds a plugged-in board without --port (tinykit.pio.ports)
    hwids: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Qemu:
    machine: str
    cpu: str
    uart_base: int
    code_base: int
    ram_base: int
    ram_bytes: int


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    aliases: tuple[str, ...]
    mcu: str
    core: str
    arch: str  # gcc -mcpu value for Arm cores, "xtensa-lx7" for ESP32-S3
    clock_mhz: int
    fpu: bool
    memory: Memory
    platformio: PlatformIO
    qemu: Qemu | None = None
    notes: str = ""
    source: Path = field(default=Path(), compare=False)

    @property
    def emulated(self) -> bool:
        return self.qemu is not None


# --- validation -----------------------------------------------------------------

_MISSING = object()

# arch (gcc -mcpu for Arm cores) -> the core that `core` must name
ARCHS: dict[str, str] = {
    "cortex-m0": "Cortex-M0", "cortex-m0plus": "Cortex-M0+", "cortex-m3": "Cortex-M3",
    "cortex-m4": "Cortex-M4", "cortex-m7": "Cortex-M7", "cortex-m23": "Cortex-M23",
    "cortex-m33": "Cortex-M33", "cortex-m35p": "Cortex-M35P", "cortex-m52": "Cortex-M52",
    "cortex-m55": "Cortex-M55", "cortex-m85": "Cortex-M85",
    "xtensa-lx6": "Xtensa LX6", "xtensa-lx7": "Xtensa LX7",
}


def names_core(core: str, arch: str) -> bool:
    """Whether the free-text ``core`` names the core of ``arch`` (an "F" suffix for the
    FPU and other words around it are fine, another core number is not).

    >>> names_core("Cortex-M4F", "cortex-m4"), names_core("dual Xtensa LX7, PIE", "xtensa-lx7")
    (True, True)
    >>> names_core("Cortex-M33", "cortex-m3"), names_core("Cortex-M77", "cortex-m7")
    (False, False)
    """
    want = re.escape(ARCHS[arch].lower().replace(" ", "-"))
    text = "-".join(core.lower().split())
    return re.search(rf"(?<![a-z0-9]){want}f?(?![a-z0-9+])", text) is not None


class _Reader:
    """Reads typed fields from one table of one file, naming both in errors."""

    def __init__(self, path: Path, table: dict[str, Any], prefix: str = "") -> None:
        self.path, self.table, self.prefix = path, table, prefix

    def _fail(self, key: str, expected: str, got: Any = _MISSING) -> BoardError:
        where = f"{self.path.name}: field '{self.prefix}{key}'"
        if got is _MISSING:
            return BoardError(f"{where} is missing; expected {expected}")
        return BoardError(f"{where} is {got!r}; expected {expected}")

    def get(self, key: str, kind: type, expected: str, default: Any = _MISSING) -> Any:
        if key not in self.table:
            if default is _MISSING:
                raise self._fail(key, expected)
            return default
        value = self.table[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            raise self._fail(key, expected, value)
        return value

    def text(self, key: str, default: Any = _MISSING) -> str:
        value = self.get(key, str, "a string", default)
        if value == "" and default is _MISSING:
            raise self._fail(key, "a non-empty string", value)
        return value

    def count(self, key: str, default: Any = _MISSING, minimum: int = 0) -> int:
        value = self.get(key, int, f"an integer >= {minimum}", default)
        if value < minimum:
            raise self._fail(key, f"an integer >= {minimum}", value)
        return value

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        return self.get(key, bool, "true or false", default)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, "a list of strings", [])
        if not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, "a list of strings", value)
        return tuple(value)

    def sub(self, key: str, required: bool = True) -> _Reader | None:
        if key not in self.table and not required:
            return None
        value = self.get(key, dict, "a table")
        return _Reader(self.path, value, f"{self.prefix}{key}.")

    def unknown(self, known: set[str]) -> None:
        extra = sorted(set(self.table) - known)
        if extra:
            raise BoardError(
                f"{self.path.name}: unknown field '{self.prefix}{extra[0]}'; "
                f"expected one of {', '.join(sorted(known))}"
            )


_HEX16 = re.compile(r"0x[0-9a-fA-F]{4}")


def _hwids(p: _Reader) -> tuple[tuple[int, int], ...]:
    """``platformio.hwids``: a list of ["0xVVVV", "0xPPPP"] pairs (USB vendor and product id)."""
    found = []
    for i, pair in enumerate(p.get("hwids", list, 'a list of ["0xVVVV", "0xPPPP"] pairs', [])):
        if not (isinstance(pair, list) and len(pair) == 2
                and all(isinstance(v, str) and _HEX16.fullmatch(v) for v in pair)):
            raise BoardError(f"{p.path.name}: field '{p.prefix}hwids[{i}]' is {pair!r}; expected "
                             'a ["0xVVVV", "0xPPPP"] pair of 4-digit hex USB vendor and product ids')
        found.append((int(pair[0], 16), int(pair[1], 16)))
    return tuple(found)


def parse_board(path: Path) -> Board:
    """Load and validate one profile; errors name the file and the field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BoardError(f"{path.name}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise BoardError(f"{path}: cannot read: {exc.strerror}") from None
    r = _Reader(path, raw)
    r.unknown({"id", "name", "aliases", "mcu", "core", "arch", "clock_mhz", "fpu",
               "notes", "memory", "platformio", "qemu"})
    board_id = r.text("id")
    arch, core = r.text("arch"), r.text("core")
    if arch not in ARCHS:
        close = difflib.get_close_matches(arch, list(ARCHS), n=1)
        raise BoardError(f"{path.name}: field 'arch' is {arch!r}; expected one of {', '.join(ARCHS)}",
                         hint=f"did you mean {close[0]}?" if close else None)
    if not names_core(core, arch):
        raise BoardError(f"{path.name}: field 'core' is {core!r}; expected a description naming "
                         f"{ARCHS[arch]} (the core of arch {arch!r})")

    m = r.sub("memory")
    assert m is not None
    m.unknown({"ram_bytes", "flash_bytes", "ram_reserve_bytes", "flash_reserve_bytes",
               "reserve_note", "external"})
    externals = []
    for i, item in enumerate(m.get("external", list, "a list of tables", [])):
        if not isinstance(item, dict):
            raise BoardError(f"{path.name}: field 'memory.external[{i}]' is {item!r}; expected a table")
        e = _Reader(path, item, f"memory.external[{i}].")
        e.unknown({"kind", "bytes", "note"})
        externals.append(ExternalMemory(e.text("kind"), e.count("bytes", minimum=1), e.text("note", "")))
    memory = Memory(
        ram_bytes=m.count("ram_bytes", minimum=1),
        flash_bytes=m.count("flash_bytes", minimum=1),
        ram_reserve_bytes=m.count("ram_reserve_bytes"),
        flash_reserve_bytes=m.count("flash_reserve_bytes"),
        reserve_note=m.text("reserve_note"),
        external=tuple(externals),
    )
    if memory.ram_budget <= 0 or memory.flash_budget <= 0:
        raise BoardError(f"{path.name}: field 'memory.ram_reserve_bytes' or 'memory.flash_reserve_bytes' "
                         "leaves no budget; expected a reserve smaller than the total")

    p = r.sub("platformio")
    assert p is not None
    p.unknown({"platform", "board", "framework", "upload_protocol", "monitor_speed", "hwids"})
    pio = PlatformIO(p.text("platform"), p.text("board"), p.text("framework"),
                     p.text("upload_protocol"), p.count("monitor_speed", minimum=1), _hwids(p))

    qemu = None
    q = r.sub("qemu", required=False)
    if q is not None:
        q.unknown({"machine", "cpu", "uart_base", "code_base", "ram_base", "ram_bytes"})
        qemu = Qemu(q.text("machine"), q.text("cpu"), q.count("uart_base"), q.count("code_base"),
                    q.count("ram_base"), q.count("ram_bytes", minimum=1))

    return Board(
        id=board_id,
        name=r.text("name"),
        aliases=r.strings("aliases"),
        mcu=r.text("mcu"),
        core=core,
        arch=arch,
        clock_mhz=r.count("clock_mhz", minimum=1),
        fpu=r.flag("fpu"),
        memory=memory,
        platformio=pio,
        qemu=qemu,
        notes=r.text("notes", ""),
        source=path,
    )


def load_boards(directory: Path) -> dict[str, Board]:
    boards: dict[str, Board] = {}
    names: dict[str, str] = {}
    for path in sorted(directory.glob("*.toml")):
        board = parse_board(path)
        if board.id != path.stem:  # shipped profiles are found by file name
            raise BoardError(f"{path.name}: field 'id' is {board.id!r}; expected {path.stem!r} "
                             "(the file name)")
        for name in (board.id, *board.aliases):
            if name in names:
                raise BoardError(f"{path.name}: id or alias {name!r} is already used by {names[name]}.toml")
            names[name] = board.id
        boards[board.id] = board
    return boards


@cache
def _registry() -> dict[str, Board]:
    return load_boards(boards_dir())


def all_boards() -> list[Board]:
    return list(_registry().values())


def get_board(name: str) -> Board:
    """A board by id or alias; an unknown name suggests the closest ids."""
    boards = _registry()
    by_name = {n: b for b in boards.values() for n in (b.id, *b.aliases)}
    key = name.strip().lower()
    if key in by_name:
        return by_name[key]
    close = difflib.get_close_matches(key, list(by_name), n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(close)}?" if close else "see `tinykit boards`"
    raise BoardError(f"unknown board {name!r}", hint=f"{hint} Known: {', '.join(sorted(boards))}")


def resolve(board: str | Path | Board) -> Board:
    """What ``--board`` names: a :class:`Board` as is, the path of a profile ``.toml``
    (a custom board, validated like the shipped ones; its ``id`` need not match the file
    name), or a shipped board's id or alias.

    >>> resolve("nucleo-l4r5zi").id == resolve(resolve("nucleo-l4r5zi")).id
    True
    """
    if isinstance(board, Board):
        return board
    if isinstance(board, Path) or str(board).strip().lower().endswith(".toml"):
        return parse_board(Path(board))
    return get_board(board)
