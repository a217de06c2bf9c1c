"""The four fixture models as committed under tests/fixtures/ (no TensorFlow).

``tests/fixtures/<name>.tflite`` were built by tests/fixtures/regenerate.py
(``make fixtures``) with tests/fixture_models.py; their calibration samples are
recomputed here with numpy (:func:`fixture_models.calibration`), so nothing but
the .tflite files is committed. tests/fixtures/MANIFEST.json records:

* ``generator.sha256``: a hash of the source of everything that shapes the
  bytes: in tests/fixture_models.py the model builders, ``synthetic``,
  ``training_data``, ``calibration``, ``build`` and the ``SPECS`` entries; in
  tinykit the int8 conversion (``tinykit.quantize.convert_int8`` and
  ``fix_batch``). Function sources (``inspect.getsource``), not whole files:
  imports, comments outside them and moving a function to another module
  do not ask for a regeneration, a change to what a function does does.
* per model: the .tflite's size and sha256, and the sha256 of the recomputed
  calibration samples and labels (numpy's random streams are stable, this
  checks it);
* informational: the TensorFlow, numpy and Python versions that built them.

tests/test_fixtures.py (unit tier) fails with the command to run when the
generator changed but the files were not regenerated.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path
from typing import Any

import fixture_models
import numpy as np
from fixture_models import SPECS, FixtureModel, calibration

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MANIFEST = FIXTURES / "MANIFEST.json"
REGENERATE = "make fixtures  (or: .venv/bin/python tests/fixtures/regenerate.py; TensorFlow, ~30 s)"


def _generator_parts() -> list[tuple[str, str]]:
    """(label, source) of every piece of code that decides the fixture bytes."""
    from tinykit import quantize

    fm = fixture_models
    funcs: list[tuple[str, Any]] = [(f"fixture_models.{f.__name__}", f) for f in (
        fm.synthetic, fm.training_data, fm.calibration, fm.build)]
    funcs += [(f"fixture_models.{spec[0].__name__}", spec[0]) for _, spec in sorted(SPECS.items())]
    funcs += [("tinykit.quantize.convert_int8", quantize.convert_int8),
              ("tinykit.quantize.fix_batch", quantize.fix_batch)]
    parts = [(label, inspect.getsource(f)) for label, f in funcs]
    specs = {name: (spec[0].__name__, *spec[1:]) for name, spec in sorted(SPECS.items())}
    parts.append(("fixture_models.SPECS", repr(specs)))
    return parts


def generator_sources() -> dict[str, str]:
    """sha256 of each part's source, by label."""
    return {label: hashlib.sha256(source.encode()).hexdigest() for label, source in _generator_parts()}


def generator_hash() -> str:
    h = hashlib.sha256()
    for label, source in _generator_parts():
        h.update(label.encode() + b"\0" + source.encode() + b"\0")
    return h.hexdigest()


def array_hash(x: np.ndarray | None) -> str | None:
    if x is None:
        return None
    x = np.ascontiguousarray(x)
    return hashlib.sha256(f"{x.dtype.str}{x.shape}".encode() + x.tobytes()).hexdigest()


def tflite_path(name: str) -> Path:
    return FIXTURES / f"{name}.tflite"


def load_manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text())


def load(name: str) -> FixtureModel:
    """A committed fixture model: .tflite bytes plus the numpy calibration set (no Keras model)."""
    path = tflite_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run {REGENERATE}")
    calib, labels = calibration(name)
    return FixtureModel(name, path.read_bytes(), calib, labels)


def manifest_entry(model: FixtureModel) -> dict[str, Any]:
    return {
        "file": tflite_path(model.name).name,
        "bytes": len(model.tflite),
        "sha256": hashlib.sha256(model.tflite).hexdigest(),
        "calib_shape": list(model.calib.shape),
        "calib_sha256": array_hash(model.calib),
        "labels_sha256": array_hash(model.labels),
    }


def problems() -> list[str]:
    """Why the committed fixtures do not match the generator and the files (empty: they do)."""
    if not MANIFEST.is_file():
        return [f"{MANIFEST} is missing"]
    manifest = load_manifest()
    found = []
    if manifest["generator"]["sha256"] != generator_hash():
        then, now = manifest["generator"]["sources"], generator_sources()
        changed = sorted(k for k in then.keys() | now.keys() if then.get(k) != now.get(k))
        found.append("the generator changed since the fixtures were built: " + ", ".join(changed))
    if sorted(manifest["models"]) != sorted(SPECS):
        found.append(f"MANIFEST.json lists {sorted(manifest['models'])}, fixture_models.SPECS has {sorted(SPECS)}")
    for name, want in sorted(manifest["models"].items()):
        path = FIXTURES / want["file"]
        if not path.is_file():
            found.append(f"{path} is missing")
            continue
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if got != want["sha256"]:
            found.append(f"{path.name} is not the file MANIFEST.json records (sha256 {got[:12]}, "
                         f"recorded {want['sha256'][:12]})")
        if name in SPECS:
            calib, labels = calibration(name)
            if (array_hash(calib), array_hash(labels)) != (want["calib_sha256"], want["labels_sha256"]):
                found.append(f"{name}: the recomputed calibration samples differ from the ones the model "
                             "was built with (numpy's random stream changed?)")
    return found
