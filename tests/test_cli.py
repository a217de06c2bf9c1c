"""The root command as a user meets it: verbs listed, exit codes documented,
errors of the foundation verbs printed as one line."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO
from tiny_models import PYTHON

from tinykit import __version__
from tinykit.cli import cli

pytestmark = pytest.mark.unit

VERBS = ("boards", "quantize", "predict")


def test_root_help_lists_verbs_and_exit_codes() -> None:
    res = CliRunner().invoke(cli, ["--help"])
    assert res.exit_code == 0
    for verb in VERBS:
        assert verb in res.stdout
    assert "Exit codes" in res.stdout and "the check failed" in res.stdout


@pytest.mark.parametrize("verb", VERBS)
def test_verb_help_documents_exit_codes(verb: str) -> None:
    res = CliRunner().invoke(cli, [verb, "--help"])
    assert res.exit_code == 0
    assert "Exit codes" in res.stdout and re.search(r"\b2\s+error", res.stdout)
    assert "130  interrupted (Ctrl-C)" in res.stdout


def test_version() -> None:
    res = CliRunner().invoke(cli, ["--version"])
    assert res.exit_code == 0 and __version__ in res.stdout


def test_usage_error_exit_2() -> None:
    res = CliRunner().invoke(cli, ["quantize", "m.keras"])  # --data and -o missing
    assert res.exit_code == 2 and "--data" in res.stderr


def test_data_checked_before_tensorflow(tmp_path: Path) -> None:
    """A bad data file fails fast and alone on stderr, before TensorFlow is imported."""
    (tmp_path / "m.keras").write_bytes(b"x")
    np.save(tmp_path / "e.npy", np.zeros((0, 3), np.float32))
    code = ("import sys; from tinykit.cli import main; sys.argv = ['tinykit', 'quantize', "
            f"{str(tmp_path / 'm.keras')!r}, '--data', {str(tmp_path / 'e.npy')!r}, '-o', "
            f"{str(tmp_path / 'o.tflite')!r}]\ntry:\n    main()\nexcept SystemExit as e:\n"
            "    print('tf' if 'tensorflow' in sys.modules else 'no-tf'); raise")
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, cwd=REPO,
                          timeout=60)
    assert proc.returncode == 2 and proc.stdout.strip() == "no-tf"
    assert proc.stderr.strip().splitlines() == [
        "tinykit: error: e.npy: is empty (shape (0, 3)) (give at least one sample)"]
