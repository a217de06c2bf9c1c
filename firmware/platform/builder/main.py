"""tinykit-qemu build script (runs inside PlatformIO's SCons).

Compiles the project's src/ with the system arm-none-eabi-gcc (C99, -Os,
warnings are errors), links with the board's linker script, nano specs and
--gc-sections, makes firmware.bin, and lets PlatformIO print RAM/flash use
against the board JSON's upload.maximum_ram_size / maximum_size. The upload
target runs $UPLOADCMD: the project's upload_command, or by default
``python -m tinykit.pio.qemu start`` which starts the emulator.
"""

import os
import shlex

from SCons.Script import Builder, Default, DefaultEnvironment

env = DefaultEnvironment()
platform = env.PioPlatform()
board = env.BoardConfig()
platform_dir = platform.get_dir()

cpu = board.get("build.cpu")
tinykit_board = board.get("tinykit.board", "")

env.Replace(
    AR="arm-none-eabi-ar",
    AS="arm-none-eabi-as",
    CC="arm-none-eabi-gcc",
    CXX="arm-none-eabi-g++",
    GDB="arm-none-eabi-gdb",
    OBJCOPY="arm-none-eabi-objcopy",
    RANLIB="arm-none-eabi-ranlib",
    SIZETOOL="arm-none-eabi-size",
    ARFLAGS=["rc"],
    # PlatformIO's size check on `size -B` (berkeley) output:
    # flash = text + data, RAM = data + bss (the .stack section counts as bss).
    SIZECHECKCMD="$SIZETOOL -B -d $SOURCES",
    SIZEPROGREGEXP=r"^(\d+)\s+(\d+)\s+\d+\s",
    SIZEDATAREGEXP=r"^\d+\s+(\d+)\s+(\d+)\s+\d+",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
    LDSCRIPT_PATH=os.path.join(platform_dir, "ldscripts", board.get("build.ldscript")),
)

machine_flags = [f"-mcpu={cpu}", "-mthumb"]

env.Append(
    ASFLAGS=machine_flags + ["-x", "assembler-with-cpp"],
    CFLAGS=["-std=c99"],
    CCFLAGS=machine_flags
    + [
        "-Os",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-ffunction-sections",
        "-fdata-sections",
    ],
    CPPDEFINES=[("F_CPU", "$BOARD_F_CPU")],
    LINKFLAGS=machine_flags
    + [
        "-Wl,--gc-sections",
        "--specs=nano.specs",
        "--specs=nosys.specs",
        "-nostartfiles",
        "-Wl,-Map," + os.path.join("$BUILD_DIR", "firmware.map"),
    ],
)

# FPU flags (-mfloat-abi, -mfpu) come from the board JSON's build.extra_flags;
# PlatformIO adds them to CCFLAGS, the assembler and the linker need them too.
fpu_flags = [f for f in board.get("build.extra_flags", "").split() if f.startswith("-mf")]
env.Append(ASFLAGS=fpu_flags, LINKFLAGS=fpu_flags)

env.Append(
    BUILDERS=dict(
        ElfToBin=Builder(
            action=env.VerboseAction(
                " ".join(["$OBJCOPY", "-O", "binary", "$SOURCES", "$TARGET"]),
                "Building $TARGET",
            ),
            suffix=".bin",
        )
    )
)

# tinykit is importable from a source checkout (firmware/platform -> repo root)
# as well as from an installed wheel (tinykit/_data/firmware/platform).
checkout_root = os.path.dirname(os.path.dirname(platform_dir))
if os.path.isfile(os.path.join(checkout_root, "tinykit", "__init__.py")):
    path = env["ENV"].get("PYTHONPATH", "")
    if checkout_root not in path.split(os.pathsep):
        env["ENV"]["PYTHONPATH"] = os.pathsep.join(p for p in (checkout_root, path) if p)

if not env.GetProjectOption("upload_command", None):
    env.Replace(
        UPLOADCMD=" ".join(
            [
                shlex.quote(env.subst("$PYTHONEXE")),
                "-m",
                "tinykit.pio.qemu",
                "start",
                "--board",
                shlex.quote(tinykit_board),
                "--elf",
                '"$SOURCE"',
            ]
        )
    )

target_elf = env.BuildProgram()
target_bin = env.ElfToBin(os.path.join("$BUILD_DIR", "${PROGNAME}"), target_elf)

env.AddPlatformTarget("buildprog", [target_elf, target_bin], None, "Build")
env.AddPlatformTarget(
    "size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE"), "Program Size"
)
env.AddPlatformTarget(
    "upload",
    target_elf,
    [env.VerboseAction("$UPLOADCMD", "Starting QEMU with $SOURCE")],
    "Upload",
)

Default([target_elf, target_bin])
