"""``tinykit boards``: the board profiles tinykit knows, and one in full."""

from __future__ import annotations

from typing import Any

import click

from tinykit.boards import Board, all_boards, resolve
from tinykit.errors import help_epilog
from tinykit.output import human_bytes, out, print_json

PIPE_WIDTH = 160  # table width when stdout is not a terminal (there is no width to ask)


def _print(table: Any) -> None:
    """Print to stdout; piped output gets a wide page instead of rich's 80 columns."""
    if out.is_terminal:
        out.print(table)
    else:
        from rich.console import Console

        Console(width=PIPE_WIDTH, soft_wrap=True, highlight=False).print(table)


def board_summary(b: Board) -> dict[str, Any]:
    """The fields of the ``tinykit boards`` table."""
    m = b.memory
    return {"id": b.id, "name": b.name, "aliases": list(b.aliases), "mcu": b.mcu, "core": b.core,
            "arch": b.arch, "clock_mhz": b.clock_mhz, "ram_bytes": m.ram_bytes,
            "ram_budget": m.ram_budget, "flash_bytes": m.flash_bytes,
            "flash_budget": m.flash_budget, "platform": b.platformio.platform,
            "emulated": b.emulated}


def board_detail(b: Board) -> dict[str, Any]:
    """Every field of a profile (``tinykit boards show``)."""
    m, p, q = b.memory, b.platformio, b.qemu
    return {
        **board_summary(b), "fpu": b.fpu, "notes": b.notes, "source": str(b.source),
        "memory": {"ram_bytes": m.ram_bytes, "flash_bytes": m.flash_bytes,
                   "ram_reserve_bytes": m.ram_reserve_bytes,
                   "flash_reserve_bytes": m.flash_reserve_bytes, "ram_budget": m.ram_budget,
                   "flash_budget": m.flash_budget, "reserve_note": m.reserve_note,
                   "external": [{"kind": e.kind, "bytes": e.bytes, "note": e.note}
                                for e in m.external]},
        "platformio": {"platform": p.platform, "board": p.board, "framework": p.framework,
                       "upload_protocol": p.upload_protocol, "monitor_speed": p.monitor_speed,
                       "hwids": [f"{v:04X}:{d:04X}" for v, d in p.hwids]},
        "qemu": None if q is None else {
            "machine": q.machine, "cpu": q.cpu, "uart_base": hex(q.uart_base),
            "code_base": hex(q.code_base), "ram_base": hex(q.ram_base), "ram_bytes": q.ram_bytes},
    }


def _budget(budget: int, total: int) -> str:
    return f"{human_bytes(budget)} / {human_bytes(total)}"


@click.group(invoke_without_command=True, epilog=help_epilog(
    ["tinykit boards", "tinykit boards show esp32s3", "tinykit boards show ./my-board.toml --json"],
    None, "unknown board, malformed profile"))
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def boards(ctx: click.Context, as_json: bool) -> None:
    """List the board profiles (RAM/flash budget = total minus the framework's reserve)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = [board_summary(b) for b in all_boards()]
    if as_json:
        print_json({"boards": rows})
        ctx.exit(0)
    from rich.table import Table

    t = Table(title="boards (budget / total)")
    for col in ("id", "aliases", "MCU", "core", "clock", "RAM", "flash", "platform"):
        right = col in ("clock", "RAM", "flash")
        t.add_column(col, justify="right" if right else "left", no_wrap=right or col == "id")
    for r in rows:
        t.add_row(r["id"], ", ".join(r["aliases"]), r["mcu"], r["core"], f"{r['clock_mhz']} MHz",
                  _budget(r["ram_budget"], r["ram_bytes"]),
                  _budget(r["flash_budget"], r["flash_bytes"]),
                  r["platform"] + (" (emulated)" if r["emulated"] else ""))
    _print(t)
    ctx.exit(0)


@boards.command(epilog=help_epilog(
    ["tinykit boards show esp32s3", "tinykit boards show ./my-board.toml   (check a custom profile)"],
    None, "unknown board, malformed profile"))
@click.argument("board_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the profile as JSON.")
@click.pass_context
def show(ctx: click.Context, board_id: str, as_json: bool) -> None:
    """Show every field of one board profile (by id or alias, or a profile .toml to check)."""
    d = board_detail(resolve(board_id))
    if as_json:
        print_json({"board": d})
        ctx.exit(0)
    from rich.table import Table

    m = d["memory"]
    t = Table(title=f"{d['id']}: {d['name']}", show_header=False)
    t.add_column(style="bold")
    t.add_column()
    rows: list[tuple[str, str]] = [
        ("aliases", ", ".join(d["aliases"]) or "-"), ("MCU", d["mcu"]), ("core", d["core"]),
        ("arch", d["arch"]), ("clock", f"{d['clock_mhz']} MHz"), ("FPU", "yes" if d["fpu"] else "no"),
        ("RAM", f"{human_bytes(m['ram_bytes'])} ({m['ram_bytes']} B), reserve "
                f"{human_bytes(m['ram_reserve_bytes'])}, budget {human_bytes(m['ram_budget'])}"),
        ("flash", f"{human_bytes(m['flash_bytes'])} ({m['flash_bytes']} B), reserve "
                  f"{human_bytes(m['flash_reserve_bytes'])}, budget {human_bytes(m['flash_budget'])}"),
        ("reserve", m["reserve_note"]),
    ]
    rows += [(f"external {e['kind']}", f"{human_bytes(e['bytes'])}: {e['note']}".rstrip(": "))
             for e in m["external"]]
    rows += [(f"platformio.{k}", str(v)) for k, v in d["platformio"].items()]
    if d["qemu"] is not None:
        rows += [(f"qemu.{k}", str(v)) for k, v in d["qemu"].items()]
    if d["notes"]:
        rows.append(("notes", d["notes"]))
    rows.append(("profile", d["source"]))
    for key, value in rows:
        t.add_row(key, value)
    _print(t)
    ctx.exit(0)
