"""``tinykit boards`` and the profile loader's errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO
from tiny_models import PYTHON

from tinykit.boards import all_boards, load_boards
from tinykit.cli import cli
from tinykit.errors import BoardError
from tinykit.resources import boards_dir

pytestmark = pytest.mark.unit


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, ["boards", *args])


def test_list_json_matches_profiles() -> None:
    res = invoke("--json")
    assert res.exit_code == 0, res.output
    rows = {r["id"]: r for r in json.loads(res.stdout)["boards"]}
    boards = all_boards()
    assert set(rows) == {b.id for b in boards} and len(rows) >= 8
    for b in boards:
        r = rows[b.id]
        assert r["ram_budget"] == b.memory.ram_bytes - b.memory.ram_reserve_bytes
        assert r["flash_budget"] == b.memory.flash_budget and r["aliases"] == list(b.aliases)
        assert r["emulated"] == (b.qemu is not None)


def test_list_table_has_every_board() -> None:
    res = invoke()
    assert res.exit_code == 0
    for b in all_boards():
        assert b.id in res.stdout and b.platformio.platform in res.stdout


def test_show_by_alias_json() -> None:
    res = invoke("show", "stm32", "--json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)["board"]
    assert d["id"] == "nucleo-l4r5zi" and d["qemu"] is None
    assert d["memory"]["reserve_note"] and d["platformio"]["board"] == "nucleo_l4r5zi"


def test_show_external_memory_and_qemu() -> None:
    esp = json.loads(invoke("show", "esp32s3", "--json").stdout)["board"]
    assert esp["memory"]["external"][0]["kind"] == "psram"
    res = invoke("show", "qemu-m4")
    assert res.exit_code == 0
    assert "qemu.machine" in res.stdout and "mps2-an386" in res.stdout
    assert "reserve" in res.stdout


def test_unknown_board_suggests() -> None:
    res = invoke("show", "esp32s4")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown board 'esp32s4'" in lines[0] and "esp32s3" in lines[0]


def test_subprocess() -> None:
    ok = subprocess.run([PYTHON, "-m", "tinykit", "boards", "--json"], capture_output=True,
                        text=True, cwd=REPO, timeout=60)
    assert ok.returncode == 0 and ok.stderr == ""
    assert len(json.loads(ok.stdout)["boards"]) == len(all_boards())
    bad = subprocess.run([PYTHON, "-m", "tinykit", "boards", "show", "nope"], capture_output=True,
                         text=True, cwd=REPO, timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


# --- malformed profiles ----------------------------------------------------------------

GOOD = (boards_dir() / "qemu-m4.toml").read_text()


@pytest.mark.parametrize("edit, words", [
    (lambda t: t.replace("ram_bytes = 655360", 'ram_bytes = "lots"'), "'memory.ram_bytes'"),
    (lambda t: t.replace('mcu = "ARM MPS2 AN386 (emulated)"\n', ""), "'mcu' is missing"),
    (lambda t: t.replace("clock_mhz = 25", "clock_mhz = 25\nspeed = 3"), "unknown field 'speed'"),
    (lambda t: t.replace("monitor_speed = 115200", "monitor_speed = 0"),
     "'platformio.monitor_speed'"),
    (lambda t: t.replace("[memory]", "[memory"), "not valid TOML"),
])
def test_malformed_profile_names_file_and_field(tmp_path: Path, edit, words: str) -> None:  # noqa: ANN001
    (tmp_path / "qemu-m4.toml").write_text(edit(GOOD))
    with pytest.raises(BoardError) as exc:
        load_boards(tmp_path)
    msg = exc.value.format_message()
    assert "\n" not in msg and msg.startswith("qemu-m4.toml:") and words in msg


def test_duplicate_alias(tmp_path: Path) -> None:
    (tmp_path / "qemu-m4.toml").write_text(GOOD)
    (tmp_path / "other.toml").write_text(GOOD.replace('id = "qemu-m4"', 'id = "other"'))
    with pytest.raises(BoardError) as exc:
        load_boards(tmp_path)
    assert "already used" in exc.value.format_message()


def test_good_copy_loads(tmp_path: Path) -> None:
    (tmp_path / "qemu-m4.toml").write_text(GOOD)
    b = load_boards(tmp_path)["qemu-m4"]
    assert b.qemu is not None and b.memory.ram_budget > 0
