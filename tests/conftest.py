"""Test tiers and session fixtures.

Tiers (markers registered in pyproject.toml; ``make test-fast`` runs ``-m unit``):

* ``unit``: no TensorFlow conversion or training, no compiler, no emulator
  (numpy and the TFLM Python interpreter are fine); every doctest is unit;
* ``host``: runs gcc/g++/arm-none-eabi-gcc (or another build tool), or converts
  or trains with TensorFlow;
* ``emu``: runs QEMU or PlatformIO.

Every test module states its tier (``pytestmark = pytest.mark.unit``); a test of
another tier in that module carries its own ``@pytest.mark.host`` (or ``unit``,
``emu``), and the closest marker wins: :func:`pytest_collection_modifyitems`
leaves exactly one tier marker on every test (a test without any gets ``host``
and a warning). The old ``slow`` marker is kept as an alias set on every ``emu``
test. A run of unit tests only must not import TensorFlow: a unit test that
imports it errors at teardown, and a unit-only session that has it in
``sys.modules`` at the end (a module importing it at collection) fails.

Fixture models: ``ds_cnn``, ``resnet``, ``mobilenet``, ``autoencoder`` and
``any_model`` are the committed tests/fixtures/*.tflite (tests/committed_fixtures.py)
with their numpy calibration samples, no TensorFlow; ``model_dir`` holds copies of
the four files. The ``trained_*`` fixtures build, train and quantize with
TensorFlow (host tier) for the tests that need the float Keras model.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem

sys.path.insert(0, str(Path(__file__).parent))

import committed_fixtures  # noqa: E402
from fixture_models import SPECS, FixtureModel, build  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TIERS = ("unit", "host", "emu")
DEFAULT_TIER = "host"


# --- tiers ------------------------------------------------------------------------


def tier_of(item: pytest.Item) -> str | None:
    """The closest tier marker (the test's own before its class's and module's); doctests are unit."""
    if isinstance(item, DoctestItem):
        return "unit"
    return next((m.name for m in item.iter_markers() if m.name in TIERS), None)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tiers = {item.nodeid: tier_of(item) for item in items}
    untiered = sorted({item.nodeid.split("::")[0] for item in items if tiers[item.nodeid] is None})
    # a module's or class's tier marker is only a default: move it onto the items
    for item in items:
        for node in item.listchain():
            node.own_markers[:] = [m for m in node.own_markers if m.name not in TIERS]
    for item in items:
        tier = tiers[item.nodeid] or DEFAULT_TIER
        item.add_marker(tier)
        if tier == "emu":
            item.add_marker("slow")
    if untiered:
        warnings.warn(pytest.PytestWarning(
            f"tests without a tier marker (run as {DEFAULT_TIER!r}): {', '.join(untiered)}; "
            "add `pytestmark = pytest.mark.unit|host|emu` (see tests/conftest.py)"), stacklevel=1)


@pytest.fixture(autouse=True)
def _unit_tier_estimates_flash(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The unit tier runs no compiler: `analyze` estimates the AOT flash instead of linking it."""
    if request.node.get_closest_marker("unit") is not None:
        monkeypatch.setenv("TINYKIT_FLASH", "estimate")


_TF_BEFORE = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_TF_BEFORE] = "tensorflow" in sys.modules


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    if (item.get_closest_marker("unit") is not None and not item.stash.get(_TF_BEFORE, True)
            and "tensorflow" in sys.modules):
        pytest.fail(f"{item.nodeid} is marked unit but imported tensorflow: mark it host "
                    "(or use a committed fixture)", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    items = getattr(session, "items", [])
    if items and all(item.get_closest_marker("unit") for item in items) and "tensorflow" in sys.modules:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write("\n")
            reporter.write_sep("=", "tensorflow was imported in a unit-only run", red=True, bold=True)
            reporter.write_line("a test module, helper or conftest imports it at collection: import it "
                                "inside the host-tier tests that need it", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- fixture models ---------------------------------------------------------------


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copies of the four committed .tflite files (<name>.tflite)."""
    d = tmp_path_factory.mktemp("models")
    for name in SPECS:
        (d / f"{name}.tflite").write_bytes(committed_fixtures.tflite_path(name).read_bytes())
    return d


_committed: dict[str, FixtureModel] = {}


def fixture_model(name: str) -> FixtureModel:
    if name not in _committed:
        _committed[name] = committed_fixtures.load(name)
    return _committed[name]


@pytest.fixture(scope="session")
def ds_cnn() -> FixtureModel:
    return fixture_model("ds_cnn")


@pytest.fixture(scope="session")
def resnet() -> FixtureModel:
    return fixture_model("resnet")


@pytest.fixture(scope="session")
def mobilenet() -> FixtureModel:
    return fixture_model("mobilenet")


@pytest.fixture(scope="session")
def autoencoder() -> FixtureModel:
    return fixture_model("autoencoder")


@pytest.fixture(scope="session", params=sorted(SPECS))
def any_model(request: pytest.FixtureRequest) -> FixtureModel:
    """Parametrized over all four committed fixture models."""
    return fixture_model(request.param)


# --- the same models built now with TensorFlow (host tier) -------------------------


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("trained")


_trained: dict[str, FixtureModel] = {}


def trained_model_named(name: str, directory: Path) -> FixtureModel:
    """Build, train and quantize now (keras_path is set); once per session."""
    if name not in _trained:
        _trained[name] = build(name, str(directory))
    return _trained[name]


@pytest.fixture(scope="session")
def trained_ds_cnn(trained_dir: Path) -> FixtureModel:
    return trained_model_named("ds_cnn", trained_dir)


@pytest.fixture(scope="session")
def trained_resnet(trained_dir: Path) -> FixtureModel:
    return trained_model_named("resnet", trained_dir)


@pytest.fixture(scope="session")
def trained_mobilenet(trained_dir: Path) -> FixtureModel:
    return trained_model_named("mobilenet", trained_dir)


@pytest.fixture(scope="session")
def trained_autoencoder(trained_dir: Path) -> FixtureModel:
    return trained_model_named("autoencoder", trained_dir)


@pytest.fixture(scope="session", params=sorted(SPECS))
def trained_model(request: pytest.FixtureRequest, trained_dir: Path) -> FixtureModel:
    """Parametrized over all four fixture models, built now with TensorFlow."""
    return trained_model_named(request.param, trained_dir)
