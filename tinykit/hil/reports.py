"""Reporters, chosen by name: JSON and JUnit XML files, written as results
come in so that a run that dies keeps what it measured."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from tinykit.hil.result import Status, SuiteResult


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_json(suite: SuiteResult, path: Path) -> None:
    """``--json-file``: the report `test --json` prints, as measured so far (while the run
    goes on, ``ok`` is false and ``exit_code`` 2: not complete yet)."""
    from tinykit.output import report_dict

    s = suite.summary()
    code = 0 if s["bit_exact"] else (1 if suite.completed else 2)
    text = json.dumps(report_dict(suite.to_dict(), ok=code == 0, exit_code=code), indent=2)
    _atomic_write(path, text + "\n")


def write_junit(suite: SuiteResult, path: Path) -> None:
    s = suite.summary()
    root = ET.Element("testsuite", {
        "name": f"tinykit.hil.{suite.model}", "tests": str(suite.planned),
        "failures": str(s["mismatches"]), "errors": str(s["errors"]),
        "skipped": str(suite.planned - len(suite.cases) + sum(c.status == Status.SKIPPED for c in suite.cases)),
        "time": f"{suite.wall_seconds:.3f}",
    })
    props = ET.SubElement(root, "properties")
    for key in ("model_hash", "port"):
        ET.SubElement(props, "property", {"name": key, "value": str(getattr(suite, key))})
    for case in suite.cases:
        tc = ET.SubElement(root, "testcase", {
            "classname": f"tinykit.hil.{suite.model}", "name": f"sample_{case.index}",
            "time": f"{(case.device_us or 0) / 1e6:.6f}"})
        if case.status == Status.FAILED:
            ET.SubElement(tc, "failure", {"message": case.message or "output differs from the TFLM reference"})
        elif case.status == Status.ERRORED:
            ET.SubElement(tc, "error", {"message": case.message})
        elif case.status == Status.SKIPPED:
            ET.SubElement(tc, "skipped", {"message": case.message})
    if suite.stopped:
        ET.SubElement(root, "system-err").text = suite.stopped
    _atomic_write(path, ET.tostring(root, encoding="unicode") + "\n")


REPORTERS: dict[str, Callable[[SuiteResult, Path], None]] = {"json": write_json, "junit": write_junit}
