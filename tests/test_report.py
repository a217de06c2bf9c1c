"""`tinykit report`: the page parses, makes no network request, shows each section
exactly when its input is given, and its figures equal those of the analyze, run and
test JSON (written here by the real RunReport and the real HIL JSON reporter).

"External URL" (what the page must not contain), precisely: any text matching
``<scheme>://`` (a letter, then letters, digits, ``+``, ``.`` or ``-``, then ``://``:
http, https, ftp, ws, file, ...) or a scheme-relative ``//host`` in an attribute, anywhere in
the file, namespace URIs included (the page has none); any ``href``, ``src``,
``xlink:href``, ``action``, ``formaction``, ``poster``, ``srcset``, ``data``,
``background``, ``ping``, ``manifest`` or ``cite`` attribute whose value is not a
fragment (``#...``); any CSS ``url(...)`` that is not ``url(#...)``, or ``@import``; any
element that loads something by itself (``script``, ``link``, ``iframe``, ``img``,
``object``, ``embed``, ``source``, ``audio``, ``video``, ``track``, ``base``, ``frame``).
In the emu tier a real browser renders the page with a network log: it must hold no request.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from tinykit import __version__
from tinykit.analyze.api import AnalyzeConfig, analyze
from tinykit.boards import all_boards
from tinykit.cli import cli
from tinykit.graph import model_hash, parse_tflite
from tinykit.hil.reports import REPORTERS
from tinykit.hil.result import CaseResult, Status, SuiteResult
from tinykit.report.api import ReportConfig, make_report, write_report
from tinykit.report.page import render_html
from tinykit.report.quant import METHOD, LayerError, QuantSection
from tinykit.report.sections import peak
from tinykit.serial.client import DeviceInfo, LinkStats
from tinykit.serial.protocol import TensorSpec
from tinykit.serial.run import LayerTime, RunReport

pytestmark = pytest.mark.unit

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "poster", "srcset", "data", "background",
             "ping", "manifest", "cite"}
LOADING_TAGS = {"script", "link", "iframe", "img", "object", "embed", "source", "audio", "video", "track",
                "base", "frame"}
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.I)


# --- the page, parsed ----------------------------------------------------------------


class Page(HTMLParser):
    """Parses the page strictly: every element closed in order (void elements and
    self-closing SVG elements aside); keeps section ids, tags, attributes, and the
    ``data-k``/``data-v`` figures with the ``data-k`` of their closest ancestor."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []  # (tag, data-k)
        self.problems: list[str] = []
        self.sections: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.figures: list[tuple[str | None, str, str | None]] = []  # (ancestor data-k, data-k, data-v)
        self.texts: dict[str, list[str]] = {}  # data-k -> text of each such element
        self.svg_text: list[str] = []
        self._open_text: list[tuple[str, list[str]]] = []
        self.feed(html)
        self.close()
        if self.stack:
            self.problems.append(f"unclosed elements: {[t for t, _ in self.stack]}")

    def _element(self, tag: str, attrs: list[tuple[str, str | None]], push: bool) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section" and a.get("id"):
            self.sections.append(str(a["id"]))
        key = a.get("data-k")
        parent = next((k for _, k in reversed(self.stack) if k), None)
        if key is not None:
            self.figures.append((parent, key, a.get("data-v")))
        if push:
            self.stack.append((tag, key))
            self._open_text.append((key or "", []))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs, push=tag not in VOID)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs, push=False)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1][0] if self.stack else 'nothing'}")
            return
        self.stack.pop()
        key, parts = self._open_text.pop()
        text = "".join(parts).strip()
        if key:
            self.texts.setdefault(key, []).append(text)
        if self._open_text:
            self._open_text[-1][1].append(text)
        if tag == "text":
            self.svg_text.append(text)

    def handle_data(self, data: str) -> None:
        if self._open_text:
            self._open_text[-1][1].append(data)

    def values(self, key: str, within: str | None = None) -> list[str | None]:
        return [v for parent, k, v in self.figures if k == key and (within is None or parent == within)]

    def value(self, key: str, within: str | None = None) -> str | None:
        found = self.values(key, within)
        assert len(found) == 1, f"{key} (in {within}): {found}"
        return found[0]


def external_urls(html: str, page: Page) -> list[str]:
    """Every external URL of the page, by the definition in the module docstring."""
    found = [m.group(0) for m in SCHEME.finditer(html)]
    for tag, attrs in page.tags:
        if tag in LOADING_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name in URL_ATTRS and value and not value.startswith("#"):
                found.append(f"{name}={value}")
            if value and value.startswith("//"):
                found.append(f"{name}={value}")
    found += re.findall(r"url\(\s*['\"]?(?!#)[^)]*\)", html)
    found += re.findall(r"@import", html)
    return found


def parse(path: Path) -> tuple[str, Page]:
    html = path.read_text(encoding="utf-8")
    page = Page(html)
    assert not page.problems, page.problems[:5]
    ids = [a["id"] for _, a in page.tags if a.get("id")]
    assert len(ids) == len(set(ids)), "ids repeat (charts would point at each other's clip paths)"
    return html, page


def test_url_definition_catches_each_kind() -> None:
    for bad in ('<link rel="stylesheet" href="x.css">', '<img src="a.png">', '<p style="background:url(a.png)">',
                "<style>@import 'x.css';</style>", '<svg xmlns="http://www.w3.org/2000/svg"></svg>',
                '<a href="//cdn.example/x">x</a>', '<use href="other.svg#a"/>'):
        assert external_urls(bad, Page(bad)), bad
    ok = '<svg><use href="#m1"/><path clip-path="url(#p1)"/></svg><a href="#summary">s</a>'
    assert external_urls(ok, Page(ok)) == []


# --- inputs: the JSON the run and test verbs write ----------------------------------------


def _spec(t: Any) -> TensorSpec:
    return TensorSpec(t.shape, t.dtype, t.nbytes, t.quant.scale[0], t.quant.zero_point[0])


def write_run_json(path: Path, model: Any, board: str = "qemu-m4", seed: int = 0) -> dict[str, Any]:
    """The JSON `tinykit run --layers --json` prints, from a real RunReport."""
    graph = parse_tflite(model.tflite, model.name)
    tin, tout = graph.input_tensors[0], graph.output_tensors[0]
    info = DeviceInfo(model.name, model_hash(model.tflite), "aot", board, __version__, 4096, len(graph.ops),
                      _spec(tin), _spec(tout), 1, 1024)
    rng = np.random.default_rng(seed)
    times = tuple(LayerTime(op.index, op.kind, graph.layer_name(op), int(rng.integers(20, 9000)))
                  for op in graph.ops)
    out = np.zeros(tout.shape, np.int8)
    run = RunReport("socket://127.0.0.1:1", info, True, out, None, None, sum(t.us for t in times) + 11, 9.5,
                    LinkStats(), times)
    doc = {"tinykit_version": __version__, **run.to_dict()}
    path.write_text(json.dumps(doc))
    return doc


def write_test_json(path: Path, model: Any, samples: int = 40, failed: tuple[int, ...] = (3, 17)) -> dict[str, Any]:
    """The JSON `tinykit test --json-file PATH` writes, by the real reporter."""
    graph = parse_tflite(model.tflite, model.name)
    suite = SuiteResult(graph.name, model_hash(model.tflite), "socket://127.0.0.1:1", planned=samples,
                        device={"board": "qemu-m4", "name": model.name})
    rng = np.random.default_rng(1)
    for i in range(samples):
        us = int(rng.normal(12000, 400))
        if i in failed:
            suite.cases.append(CaseResult(i, Status.FAILED, device_us=us, max_abs_diff=i % 5 + 1,
                                          message="output differs from the TFLM reference"))
        else:
            suite.cases.append(CaseResult(i, Status.PASSED, device_us=us, max_abs_diff=0))
    suite.wall_seconds = 3.25
    REPORTERS["json"](suite, path)
    return json.loads(path.read_text())


# --- tests -----------------------------------------------------------------------------


def test_model_only_has_summary_layers_and_memory(ds_cnn, model_dir: Path, tmp_path: Path) -> None:
    model = model_dir / "ds_cnn.tflite"
    result = write_report(model, ReportConfig(), tmp_path / "r.html")
    html, page = parse(result.path)
    assert page.sections == ["summary", "layers", "memory"] == list(result.report.sections)
    assert external_urls(html, page) == []
    a = analyze(model, AnalyzeConfig("qemu-m4")).to_dict()  # the figures do not depend on the board
    assert page.value("params") == str(a["totals"]["params"])
    assert page.value("macs") == str(a["totals"]["macs"])
    assert page.texts["macs"] == [f"{a['totals']['macs']:,}"]
    assert page.value("ops") == str(len(a["layers"]))
    assert page.value("hash") is None and page.texts["hash"] == [model_hash(ds_cnn.tflite)]
    for layer in a["layers"]:
        row = f"layer-{layer['index']}"
        assert page.value("layer-macs", row) == str(layer["macs"])
        assert page.value("layer-params", row) == str(layer["params"])
        assert page.value("layer-activation-bytes", row) == str(layer["activation_bytes"])
    mem = a["memory"]
    assert page.value("aot-arena") == str(mem["aot_ram_bytes"])
    assert page.value("tflm-arena") == str(mem["tflm_arena_bytes"])
    assert page.value("aot-total") == str(mem["aot_ram_bytes"] + mem.get("stack_bytes", 0)) == str(mem["ram_bytes"])
    assert len(page.values("input")) == 1 and len(page.values("output")) == 1


def test_memory_plan_draws_every_buffer(resnet, tmp_path: Path) -> None:
    from tinykit.plan import plan_arena

    report = make_report(resnet.tflite, ReportConfig(), name="resnet")
    buffers, plan = plan_arena(parse_tflite(resnet.tflite, "resnet"))
    m = report.memory
    assert {b.id for b in m.boxes} == {b.id for b in buffers}
    assert all(b.offset == plan.offsets[b.id] for b in m.boxes)
    assert (m.peak_bytes, m.peak_op) == peak(m.boxes, m.n_ops)
    assert m.peak_bytes <= m.arena_bytes == plan.arena_bytes
    assert m.inplace and all(0 <= p.op < m.n_ops for p in m.inplace)  # resnet's ADDs run in place
    result = write_report(resnet.tflite, ReportConfig(), tmp_path / "r.html", name="resnet")
    _, page = parse(result.path)
    labels = set(page.svg_text)
    assert {b.label for b in m.boxes} <= labels  # every rectangle is labelled with its tensor
    assert any(t.startswith("peak ") for t in labels) and "in place" in labels


def test_board_all_shows_every_board_as_analyze_does(mobilenet, model_dir: Path, tmp_path: Path) -> None:
    model = model_dir / "mobilenet.tflite"
    out = tmp_path / "all.html"
    r = CliRunner().invoke(cli, ["report", str(model), "--board", "all", "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["sections"] == ["summary", "layers", "memory", "budgets"]
    html, page = parse(out)
    assert external_urls(html, page) == []
    for board in all_boards():
        a = analyze(model, AnalyzeConfig(board.id)).to_dict()
        row = f"budget-{board.id}"
        for kind in ("ram", "flash"):
            b = a["budget"][kind]
            assert page.value(f"{kind}-used", row) == str(b["used"])
            assert page.value(f"{kind}-budget", row) == str(b["budget"])
            assert page.value(f"{kind}-headroom", row) == str(b["headroom"])
            assert page.value(f"{kind}-fits", row) == str(b["fits"]).lower()


def test_board_takes_a_profile_toml(ds_cnn, tmp_path: Path) -> None:
    from tinykit.boards import get_board

    src = get_board("qemu-m4").source
    toml = tmp_path / "qemu-m4.toml"
    shutil.copy(src, toml)
    report = make_report(ds_cnn.tflite, ReportConfig(board=toml), name="ds_cnn")
    assert report.budgets is not None and [b.board for b in report.budgets] == ["qemu-m4"]


def test_run_and_test_json_fill_the_speed_section(ds_cnn, tmp_path: Path) -> None:
    run = write_run_json(tmp_path / "run.json", ds_cnn)
    hil = write_test_json(tmp_path / "test.json", ds_cnn)
    out = tmp_path / "speed.html"
    r = CliRunner().invoke(cli, ["report", _model_file(ds_cnn, tmp_path), "--board", "qemu-m4",
                                 "--layers", str(tmp_path / "run.json"), "--hil", str(tmp_path / "test.json"),
                                 "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == str(out)
    html, page = parse(out)
    assert page.sections == ["summary", "layers", "memory", "budgets", "speed"]
    assert external_urls(html, page) == []  # the JSON's socket:// port is not shown
    macs = {x["index"]: x["macs"] for x in analyze(out.parent / "ds_cnn.tflite", AnalyzeConfig("qemu-m4"))
            .to_dict()["layers"]}
    assert page.value("device-us") == str(run["device_us"])
    for t in run["layers"]:
        row = f"run-layer-{t['index']}"
        assert page.value("us", row) == str(t["us"])
        ipm = page.value("ipm", row)
        if macs[t["index"]]:  # qemu: instructions = µs x 1000
            assert float(ipm) == pytest.approx(t["us"] * 1000 / macs[t["index"]])
        else:
            assert ipm == ""
    lat = hil["latency_us"]
    for key in ("min", "median", "p95"):
        assert float(page.value(f"latency-{key}")) == lat[key]
    assert float(page.value("throughput")) == pytest.approx(hil["throughput_per_s"])
    assert page.value("mismatches") == str(hil["mismatches"]) == "2"
    assert [int(v) for v in page.values("mismatch")] == hil["mismatch_indices"]
    assert page.value("hil-samples") == str(hil["samples"])


def test_real_board_has_no_instructions_per_mac(ds_cnn, tmp_path: Path) -> None:
    write_run_json(tmp_path / "run.json", ds_cnn, board="nucleo-l4r5zi")
    report = make_report(ds_cnn.tflite, ReportConfig(layers=tmp_path / "run.json"), name="ds_cnn")
    assert report.run is not None and not report.run.emulated
    assert all(x.instructions_per_mac is None for x in report.run.layers)
    assert report.sections == ("summary", "layers", "memory", "speed")


def _model_file(model: Any, tmp_path: Path) -> str:
    path = tmp_path / f"{model.name}.tflite"
    path.write_bytes(model.tflite)
    return str(path)


@pytest.mark.parametrize("case", ["no-layers", "other-model", "not-json", "keras-alone", "missing"])
def test_bad_inputs_are_one_line_errors(case: str, ds_cnn, resnet, tmp_path: Path) -> None:
    model = _model_file(ds_cnn, tmp_path)
    args = ["report", model, "-o", str(tmp_path / "r.html")]
    if case == "no-layers":
        doc = write_run_json(tmp_path / "run.json", ds_cnn)
        (tmp_path / "run.json").write_text(json.dumps({**doc, "layers": None}))
        args += ["--layers", str(tmp_path / "run.json")]
    elif case == "other-model":
        write_test_json(tmp_path / "test.json", resnet)
        args += ["--hil", str(tmp_path / "test.json")]
    elif case == "not-json":
        (tmp_path / "run.json").write_text("{nope")
        args += ["--layers", str(tmp_path / "run.json")]
    elif case == "keras-alone":
        args += ["--keras", str(tmp_path / "m.keras")]
    else:
        args += ["--hil", str(tmp_path / "absent.json")]
    proc = subprocess.run([sys.executable, "-m", "tinykit", *args], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "r.html").exists()


def test_report_never_imports_tensorflow(model_dir: Path, tmp_path: Path) -> None:
    code = ("import sys\nfrom tinykit.cli import cli\n"
            f"cli.main(['report', {str(model_dir / 'ds_cnn.tflite')!r}, '--board', 'qemu-m4', '-o', "
            f"{str(tmp_path / 'r.html')!r}], standalone_mode=False)\n"
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False False"


def test_same_inputs_same_bytes(ds_cnn, tmp_path: Path) -> None:
    a = write_report(ds_cnn.tflite, ReportConfig(board="qemu-m4"), tmp_path / "a.html", name="ds_cnn")
    b = write_report(ds_cnn.tflite, ReportConfig(board="qemu-m4"), tmp_path / "b.html", name="ds_cnn")
    assert a.path.read_bytes() == b.path.read_bytes()


# --- tinykit build writes report.html -------------------------------------------------------


def test_build_writes_the_report(ds_cnn, tmp_path: Path) -> None:
    from tinykit.project.api import BuildConfig, build

    out = tmp_path / "proj"
    rep = build(BuildConfig(Path(_model_file(ds_cnn, tmp_path)), "qemu-m4", out_dir=out))
    html, page = parse(out / "report.html")
    assert page.sections == ["summary", "layers", "memory", "budgets"]
    assert external_urls(html, page) == []
    built = json.loads((out / "tinykit-build.json").read_text())
    assert built["report"]["path"] == str(out / "report.html") and built["report"]["error"] is None
    ram = built["analyze"]["budget"]["ram"]
    assert page.value("ram-headroom", "budget-qemu-m4") == str(ram["headroom"])
    assert rep.exit_code == 0


def test_build_goes_on_when_the_report_fails(ds_cnn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tinykit.project.api import BuildConfig, build
    from tinykit.report import page

    def broken(report: Any) -> str:
        raise ValueError("no ink")

    monkeypatch.setattr(page, "render_html", broken)
    said: list[str] = []
    out = tmp_path / "proj"
    rep = build(BuildConfig(Path(_model_file(ds_cnn, tmp_path)), "qemu-m4", out_dir=out), say=said.append)
    assert rep.exit_code == 0 and not (out / "report.html").exists()
    assert any("report.html not written: no ink" in s for s in said)
    assert json.loads((out / "tinykit-build.json").read_text())["report"]["error"] == "ValueError: no ink"


# --- quantization (TensorFlow) --------------------------------------------------------------


@pytest.mark.host
def test_quantization_section_against_the_float_model(trained_autoencoder, tmp_path: Path) -> None:
    from tinykit.reference import run as reference_run
    from tinykit.report.quant import cosine
    from tinykit.tensors import to_model_input, to_real
    from tinykit.tf import import_tf, quiet

    m = trained_autoencoder
    calib = tmp_path / "calib.npy"
    np.save(calib, m.calib[:16])
    result = write_report(m.tflite, ReportConfig(keras=Path(m.keras_path), data=calib, samples=6),
                          tmp_path / "q.html", name=m.name)
    html, page = parse(result.path)
    assert "quantization" in page.sections and external_urls(html, page) == []
    q = result.report.quant
    assert q is not None and q.samples == 6
    graph = parse_tflite(m.tflite, m.name)
    assert {e.index for e in q.layers} == {op.index for op in graph.ops}  # every FC matched a layer
    assert all(0.5 < e.cosine <= 1.0 + 1e-9 and e.rmse >= 0 for e in q.layers)
    assert [int(v) for v in page.values("worst")] == [e.index for e in q.worst()]
    # the output layer's figure, computed independently: Keras vs the TFLM reference
    tf = import_tf()
    with quiet():
        float_out = tf.keras.models.load_model(m.keras_path).predict(m.calib[:6], verbose=0)
    tout = graph.output_tensors[0]
    x = to_model_input(m.calib[:6], graph.input_tensors[0], "calib").array
    int8_out = to_real(reference_run(m.tflite, x).outputs, tout)
    last = next(e for e in q.layers if e.index == graph.ops[-1].index)
    assert last.cosine == pytest.approx(cosine(float_out, int8_out), abs=1e-6)
    assert float(page.value("cosine", f"quant-{last.index}")) == pytest.approx(last.cosine)


@pytest.mark.host
def test_quantization_matches_fused_conv_layers(trained_ds_cnn, tmp_path: Path) -> None:
    m = trained_ds_cnn
    calib = tmp_path / "calib.npy"
    np.save(calib, m.calib[:8])
    report = make_report(m.tflite, ReportConfig(keras=Path(m.keras_path), data=calib, samples=4), name=m.name)
    q = report.quant
    assert q is not None
    graph = parse_tflite(m.tflite, m.name)
    convs = [op.index for op in graph.ops if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert set(convs) <= {e.index for e in q.layers}
    by_op = {e.index: e for e in q.layers}
    assert all(by_op[i].keras_layer.startswith(("re_lu", "batch_normalization")) for i in convs)
    assert all(e.cosine > 0.9 for e in q.layers)


# --- a real browser (emu tier) ----------------------------------------------------------------

CHROMIUM = "chromium-headless-shell"


def _png_pixels(png: bytes) -> tuple[int, int, set[bytes]]:
    """(width, height, distinct pixels of a sample of rows) of an 8-bit RGB/RGBA PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, color = 8, b"", 0, 0, 0
    while pos < len(png):
        n = int.from_bytes(png[pos:pos + 4], "big")
        kind, body = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            assert body[8] == 8, "8-bit PNG expected"
            color = body[9]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = {2: 3, 6: 4}[color]
    raw = zlib.decompress(idat)
    stride = width * bpp + 1
    pixels: set[bytes] = set()
    prev = bytearray(width * bpp)
    for y in range(height):  # undo the PNG filters row by row
        f, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
        for i in range(len(line)):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        if y % 7 == 0:
            pixels.update(bytes(line[i:i + bpp]) for i in range(0, len(line), bpp * 3))
        prev = line
    return width, height, pixels


def render_in_browser(html: Path, tmp_path: Path) -> tuple[bytes, list[str], list[str]]:
    """(PNG screenshot, console messages, URLs in the network log) of one headless render."""
    exe = shutil.which(CHROMIUM)
    assert exe, f"{CHROMIUM} is not installed: `make setup` installs it (Debian package {CHROMIUM})"
    png, netlog = tmp_path / f"{html.stem}.png", tmp_path / f"{html.stem}.netlog.json"
    proc = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", "--window-size=1280,2000",
         "--enable-logging=stderr", "--v=0", f"--log-net-log={netlog}", html.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert proc.returncode == 0 and png.exists(), proc.stderr[-2000:]
    console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
    events = json.loads(netlog.read_text()).get("events", [])
    urls = sorted({str(e["params"][k]) for e in events for k in ("url", "original_url")
                   if isinstance(e.get("params"), dict) and k in e["params"]})
    return png.read_bytes(), console, [u for u in urls if not u.startswith(("file:", "data:"))]


@pytest.mark.emu
def test_a_browser_renders_the_page_offline(ds_cnn, tmp_path: Path) -> None:
    model = _model_file(ds_cnn, tmp_path)
    write_run_json(tmp_path / "run.json", ds_cnn)
    write_test_json(tmp_path / "test.json", ds_cnn)
    report = make_report(Path(model), ReportConfig(board="all", layers=tmp_path / "run.json",
                                                   hil=tmp_path / "test.json"))
    # the quantization section needs TensorFlow; here its chart and table are drawn from made-up figures
    errors = tuple(LayerError(x.index, x.op, x.name[-12:], f"layer_{x.index}", 1 - 0.001 * (x.index + 1),
                              0.01 * x.index, 0.5 * x.index) for x in report.layers)
    report = dataclasses.replace(report, quant=QuantSection(METHOD, 4, errors, ()))
    out = tmp_path / "report.html"
    out.write_text(render_html(report), encoding="utf-8")
    html, page = parse(out)
    assert page.sections == ["summary", "layers", "memory", "budgets", "speed", "quantization"]
    assert external_urls(html, page) == []
    png, console, requests = render_in_browser(out, tmp_path)
    assert console == [], console
    assert requests == [], requests
    width, height, pixels = _png_pixels(png)
    assert (width, height) == (1280, 2000)
    assert len(pixels) > 50, "the screenshot is blank"  # text, charts, colours

    # the detectors work: a console error and a request are seen
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><title>x</title><link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
                   '<script>console.error("boom")</script><p>x</p>')
    _, console, requests = render_in_browser(bad, tmp_path)
    assert any("boom" in c for c in console) and requests == ["http://127.0.0.1:9/x.css"]
