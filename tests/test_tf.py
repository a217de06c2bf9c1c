"""``tinykit.tf.quiet``: TensorFlow's OS-level chatter never reaches the user;
real diagnostics survive a failure. No TensorFlow needed: the lines are written
the way TF's C++ writes them (straight to fd 1/2, or through C stdio)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO

from tinykit.errors import QuantizeError
from tinykit.tf import diagnostics, is_tf_noise, quiet

pytestmark = pytest.mark.unit  # no TensorFlow: its lines are written by hand

ABSL = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
ONEDNN = ("I0000 00:00:1795914376.129134    4928 port.cc:153] oneDNN custom operations are on. "
          "You may see slightly different numerical results due to floating-point round-off errors "
          "from different computation orders. To turn them off, set the environment variable "
          "`TF_ENABLE_ONEDNN_OPTS=0`.")
GUARD = ("I0000 00:00:1795914376.364216    4928 cpu_feature_guard.cc:227] This TensorFlow binary is "
         "optimized to use available CPU instructions in performance-critical operations.")
GUARD2 = ("To enable the following instructions: AVX2 AVX512F AMX_TILE FMA, in other operations, "
          "rebuild TensorFlow with the appropriate compiler flags.")
REAL = "E0000 00:00:1795914377.000001    4928 convert.cc:88] 'tfl.foo' op is not supported"


def test_noise_filter() -> None:
    for line in (ABSL, ONEDNN, GUARD, GUARD2, "2024-01-02 10:11:12.123456: I tensorflow/x.cc:9] hi"):
        assert is_tf_noise(line), line
    for line in (REAL, "W0000 00:00:1.5 7 a.cc:1] careful", "ValueError: bad shape", ""):
        assert not is_tf_noise(line), line
    assert diagnostics("\n".join([ABSL, ONEDNN, REAL, GUARD, GUARD2, ""])) == REAL


def test_subprocess_c_level_noise_never_reaches_stderr() -> None:
    """TF's import-time lines, written with write(2) and C stdio inside quiet():
    the parent sees nothing on stderr, and stdout only what was printed after."""
    code = textwrap.dedent(f"""
        import ctypes, os, sys
        from tinykit.tf import quiet
        libc = ctypes.CDLL(None)
        with quiet():
            for line in {[ABSL, ONEDNN, GUARD, GUARD2]!r}:
                os.write(2, (line + "\\n").encode())
            libc.printf(b"C stdio text, still buffered when quiet() ends\\n")
            os.write(1, b"raw fd 1 text\\n")
            print("Saved artifact at '/tmp/x'.")
            print("python stderr text", file=sys.stderr)
            sys.__stderr__.write("python real stderr text\\n")
        print('{{"ok": true}}')
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout == '{"ok": true}\n'


def test_capture_is_readable(capfd: pytest.CaptureFixture[str]) -> None:
    with quiet() as captured:
        os.write(2, f"{ONEDNN}\n{REAL}\n".encode())
        print("py")
    assert captured.text() == f"{ONEDNN}\n{REAL}\npy\n"
    assert captured.diagnostics() == f"{REAL}\npy"
    assert capfd.readouterr() == ("", "")


def test_tinykit_error_keeps_diagnostics_as_a_note(capfd: pytest.CaptureFixture[str]) -> None:
    """The error stays one line; what TF said (without the noise) rides along as a note."""
    with pytest.raises(QuantizeError) as info, quiet():
        os.write(2, f"{ABSL}\n{ONEDNN}\n{REAL}\n".encode())
        raise QuantizeError("TFLite conversion failed: op not supported")
    assert capfd.readouterr() == ("", "")
    assert info.value.__notes__ == [f"TensorFlow said:\n{REAL}"]
    assert "\n" not in info.value.format_message()


def test_other_error_replays_diagnostics_only(capfd: pytest.CaptureFixture[str]) -> None:
    """A bug (not a tinykit error): the real lines reach stderr, the noise does not."""
    with pytest.raises(RuntimeError), quiet():
        os.write(2, f"{ABSL}\n{ONEDNN}\n{REAL}\n".encode())
        raise RuntimeError("boom")
    out, err = capfd.readouterr()
    assert out == "" and err == f"TensorFlow said:\n{REAL}\n"


def test_nested_quiet_restores_the_streams(capfd: pytest.CaptureFixture[str]) -> None:
    with quiet() as outer:
        with quiet():
            os.write(2, b"inner\n")
        os.write(2, b"outer\n")
    os.write(2, b"after\n")
    assert outer.text() == "outer\n"
    assert capfd.readouterr() == ("", "after\n")


def test_import_tf_is_quiet_from_the_first_line(tmp_path: Path) -> None:
    """A stand-in ``tensorflow`` that prints at import the way TF 2.x does on a
    oneDNN machine (before absl's logging is set up): import_tf() shows nothing
    and sets TF_CPP_MIN_LOG_LEVEL before the import."""
    fake = tmp_path / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text(textwrap.dedent(f"""
        import logging, os
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
        for line in {[ABSL, ONEDNN, GUARD, GUARD2]!r}:
            os.write(2, (line + "\\n").encode())
        def get_logger():
            return logging.getLogger("tensorflow")
    """))
    code = "from tinykit.tf import import_tf; tf = import_tf(); print(tf.__name__)"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = f"{tmp_path}:{REPO}"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (proc.stdout, proc.stderr) == ("tensorflow\n", "")
