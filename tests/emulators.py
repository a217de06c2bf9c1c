"""Emulator hygiene shared by the tests that start QEMU: a private state dir
per test module, and a check that no emulator of ours survives it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def live_qemus(marker: str) -> list[int]:
    """Pids of live (not zombie) qemu-system-arm processes whose command line mentions marker."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if "qemu-system-arm" in cmd and marker in cmd and state != "Z":
            pids.append(int(proc.name))
    return pids


@contextmanager
def private_emulators(state_dir: Path, marker: str) -> Iterator[Path]:
    """Emulators started inside live in ``state_dir`` (TINYKIT_STATE_DIR, also for
    subprocesses), run with the default icount, and are all stopped on exit; then
    no QEMU whose command line mentions ``marker`` (e.g. the tmp dir holding the
    firmware) may still be alive."""
    from tinykit.pio import qemu

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TINYKIT_STATE_DIR", str(state_dir))
        mp.delenv("TINYKIT_QEMU_ICOUNT", raising=False)
        try:
            yield state_dir
        finally:
            qemu.stop_all()
            assert live_qemus(marker) == []
