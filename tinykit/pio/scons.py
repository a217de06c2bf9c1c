"""Seed PlatformIO's ``tool-scons`` package from the installed PyPI ``scons``.

PlatformIO runs every build as ``python <packages>/tool-scons/scons.py``. It
normally downloads that package from its registry; tinykit builds offline, so
it lays the package out itself from the ``SCons`` module already installed
next to PlatformIO:

    tool-scons/
      package.json   {"name": "tool-scons", "version": "4.41101.0", ...}
      .piopm         PlatformIO's install record (owner "platformio")
      scons.py       a tiny launcher: puts this folder first on sys.path
      SCons/         a copy of the PyPI package

PlatformIO encodes SCons X.Y.Z as ``X.4YYZZ.0`` (4.11.1 -> 4.41101.0).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from tinykit.errors import ToolError

PACKAGE = "tool-scons"

LAUNCHER = '''\
"""SCons launcher written by tinykit (tinykit.pio.scons)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from SCons.Script.Main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
'''


def pio_core_dir() -> Path:
    """PlatformIO's core folder: ``$PLATFORMIO_CORE_DIR`` or ``~/.platformio``."""
    return Path(os.environ.get("PLATFORMIO_CORE_DIR") or Path.home() / ".platformio")


def packages_dir() -> Path:
    return Path(os.environ.get("PLATFORMIO_PACKAGES_DIR") or pio_core_dir() / "packages")


def platforms_dir() -> Path:
    return Path(os.environ.get("PLATFORMIO_PLATFORMS_DIR") or pio_core_dir() / "platforms")


def pio_scons_version(scons_version: str) -> str:
    """PlatformIO's version string for an SCons release.

    >>> pio_scons_version("4.11.1")
    '4.41101.0'
    >>> pio_scons_version("4.8.1")
    '4.40801.0'
    """
    parts = [int(p) for p in scons_version.split(".")[:3]] + [0, 0]
    major, minor, patch = parts[:3]
    return f"{major}.4{minor:02d}{patch:02d}.0"


def _installed_scons() -> tuple[Path, str]:
    try:
        import SCons
    except ImportError:
        raise ToolError("the Python package 'scons' is not installed", hint="pip install scons==4.11.1") from None
    return Path(SCons.__file__).resolve().parent, str(SCons.__version__)


def _metadata(version: str) -> tuple[dict, dict]:
    manifest = {
        "name": PACKAGE,
        "version": version,
        "description": "SCons (seeded by tinykit from the PyPI scons package)",
        "keywords": ["build tool"],
        "homepage": "https://scons.org",
        "license": "MIT",
    }
    piopm = {
        "type": "tool",
        "name": PACKAGE,
        "version": version,
        "spec": {"owner": "platformio", "id": None, "name": PACKAGE, "requirements": None, "uri": None},
    }
    return manifest, piopm


def _is_seeded(target: Path, version: str) -> bool:
    try:
        meta = json.loads((target / ".piopm").read_text())
    except (OSError, ValueError):
        return False
    return meta.get("version") == version and (target / "scons.py").is_file()


def ensure_tool_scons() -> Path:
    """Make sure ``tool-scons`` is installed; return its folder.

    Idempotent and cheap when present (reads one small JSON file). Safe when
    several processes race: the package is built in a temporary folder and
    renamed into place.
    """
    src, scons_version = _installed_scons()
    version = pio_scons_version(scons_version)
    target = packages_dir() / PACKAGE
    if _is_seeded(target, version):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{PACKAGE}-", dir=target.parent))
    staging.chmod(0o755)
    try:
        shutil.copytree(src, staging / "SCons", ignore=shutil.ignore_patterns("__pycache__"))
        (staging / "scons.py").write_text(LAUNCHER)
        manifest, piopm = _metadata(version)
        (staging / "package.json").write_text(json.dumps(manifest, indent=2))
        (staging / ".piopm").write_text(json.dumps(piopm))
        if target.exists() and not _is_seeded(target, version):
            shutil.rmtree(target, ignore_errors=True)  # stale or half-written
        try:
            staging.rename(target)
        except OSError:
            if not _is_seeded(target, version):  # not another process winning the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
