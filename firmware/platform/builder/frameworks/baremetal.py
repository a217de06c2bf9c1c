"""tinykit-qemu "baremetal" framework: nothing to add; the project's src/
holds startup code, the HAL and the application."""

Import("env")  # noqa: F821 - SCons global
