"""The wheel carries the data folders as ``tinykit/_data/...`` and, installed,
``tinykit.resources`` finds them there (not in a checkout)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import REPO
from tiny_models import PYTHON

pytestmark = pytest.mark.host  # pip builds and installs a wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    cmd = [PYTHON, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)]
    if importlib.util.find_spec("hatchling") is not None:
        cmd.insert(4, "--no-build-isolation")  # else pip fetches hatchling from PyPI
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheels = list(out.glob("tinykit-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_contains_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tinykit/_data/boards/esp32s3.toml" in names
    assert "tinykit/_data/firmware/include/tinykit.h" in names
    assert any(n.startswith("tinykit/_data/templates/") for n in names)
    for board in (REPO / "boards").glob("*.toml"):
        assert f"tinykit/_data/boards/{board.name}" in names
    runtime = sorted((REPO / "firmware" / "src").glob("*/*.[ch]"))  # kernels/, link/
    assert {p.parent.name for p in runtime} == {"kernels", "link"}
    for path in runtime:
        assert f"tinykit/_data/firmware/src/{path.parent.name}/{path.name}" in names
    assert "tinykit/cli.py" in names and "tinykit/load/data.py" in names


def test_installed_wheel_resolves_data(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    proc = subprocess.run([PYTHON, "-m", "pip", "install", "-q", "--no-deps", "--target",
                           str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    code = ("import json, tinykit, tinykit.resources as r; print(json.dumps({'pkg': tinykit.__file__, "
            "'boards': str(r.boards_dir()), 'templates': str(r.templates_dir()), "
            "'firmware': str(r.firmware_dir())}))")
    env = dict(os.environ, PYTHONPATH=str(target))
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    where = json.loads(proc.stdout)
    assert where["pkg"].startswith(str(target))
    for name in ("boards", "templates", "firmware"):
        assert where[name] == str(target / "tinykit" / "_data" / name)
    assert (Path(where["firmware"]) / "include" / "tinykit.h").is_file()
    # and the installed copy runs a verb that reads those files
    proc = subprocess.run([PYTHON, "-m", "tinykit", "boards", "show", "esp32s3", "--json"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    source = json.loads(proc.stdout)["board"]["source"]
    assert source == str(target / "tinykit" / "_data" / "boards" / "esp32s3.toml")
