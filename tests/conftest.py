"""Session fixtures: the four fixture models are built, trained briefly and
quantized once per test session (real TF conversion)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fixture_models import SPECS, FixtureModel, build  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


_cache: dict[str, FixtureModel] = {}


def fixture_model(name: str, model_dir: Path) -> FixtureModel:
    if name not in _cache:
        m = build(name, str(model_dir))
        (model_dir / f"{name}.tflite").write_bytes(m.tflite)
        _cache[name] = m
    return _cache[name]


@pytest.fixture(scope="session")
def ds_cnn(model_dir: Path) -> FixtureModel:
    return fixture_model("ds_cnn", model_dir)


@pytest.fixture(scope="session")
def resnet(model_dir: Path) -> FixtureModel:
    return fixture_model("resnet", model_dir)


@pytest.fixture(scope="session")
def mobilenet(model_dir: Path) -> FixtureModel:
    return fixture_model("mobilenet", model_dir)


@pytest.fixture(scope="session")
def autoencoder(model_dir: Path) -> FixtureModel:
    return fixture_model("autoencoder", model_dir)


@pytest.fixture(scope="session", params=sorted(SPECS))
def any_model(request: pytest.FixtureRequest, model_dir: Path) -> FixtureModel:
    """Parametrized over all four fixture models."""
    return fixture_model(request.param, model_dir)
