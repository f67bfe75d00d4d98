"""Versions of every library that reads the evidence, recorded in each output part."""

from __future__ import annotations

from importlib import metadata

_DISTRIBUTIONS = ("dfvfs", "pytsk3", "libewf-python", "libfsntfs-python", "libfsext-python", "libfsapfs-python", "libfshfs-python",
                  "libfsxfs-python", "libfsfat-python", "libqcow-python", "libvhdi-python", "libvmdk-python", "libbde-python",
                  "libluksde-python", "libfvde-python", "libvshadow-python", "libvslvm-python", "python-magic", "pyarrow",
                  "phonenumbers", "python-stdnum")  # the last two: their metadata decides which numbers are valid identifiers


def library_versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    import magic

    versions["libmagic"] = str(magic.version()) if hasattr(magic, "version") else "unknown"
    return versions
