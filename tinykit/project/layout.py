"""How a project is laid out for each PlatformIO platform: a table, not an
if/elif chain. Adding a platform is adding an entry."""

from __future__ import annotations

from dataclasses import dataclass

from tinykit.errors import ProjectError
from tinykit.ops import tflm_resolver


@dataclass(frozen=True)
class Layout:
    framework: str | None  # platformio.ini framework; None for tinykit's bare-metal platform
    main_template: str
    main_file: str
    hal: str  # folder under firmware/hal/
    tflm_lib: str | None  # PlatformIO library providing TFLM (pinned), for --runtime tflm
    tflm_header: str | None
    note: str = ""


LAYOUTS: dict[str, Layout] = {
    # tinykit's own dev platform (firmware/platform): Debian arm-none-eabi-gcc + QEMU.
    "tinykit-qemu": Layout(None, "main_baremetal.c.j2", "main.c", "qemu", None, None),
    # PlatformIO's espressif32 platform with the Arduino-ESP32 core.
    "espressif32": Layout(
        "arduino", "main_arduino.cpp.j2", "main.cpp", "arduino",
        "tanakamasayuki/TensorFlowLite_ESP32@1.0.0", "TensorFlowLite_ESP32.h",
    ),
    # PlatformIO's ststm32 platform: STM32duino for Nucleo/Discovery, Arduino mbed for Nicla.
    "ststm32": Layout(
        "arduino", "main_arduino.cpp.j2", "main.cpp", "arduino",
        "spaziochirale/Chirale_TensorFLowLite@2.0.0", "Chirale_TensorFlowLite.h",
    ),
}

# Extra room on top of the measured TFLM arena (alignment differences between
# the host build that measured it and the target's TFLM version).
TFLM_ARENA_MARGIN_PCT = 10


def layout_for(platform: str) -> Layout:
    try:
        return LAYOUTS[platform]
    except KeyError:
        raise ProjectError(f"no project layout for PlatformIO platform {platform!r}",
                           hint=f"known: {', '.join(sorted(LAYOUTS))}") from None


def resolver_calls(op_kinds: list[str]) -> list[str]:
    """The MicroMutableOpResolver calls that register exactly these op kinds."""
    missing = sorted({k for k in op_kinds if tflm_resolver(k) is None})
    if missing:
        raise ProjectError(f"no TFLM op resolver entry for {', '.join(missing)}")
    return sorted({str(tflm_resolver(k)) for k in op_kinds})
