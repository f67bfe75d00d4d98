#!/usr/bin/env bash
# Set up Exhibit on Debian 12 (Python 3.11): the Debian tools it and its tests use, then a
# virtual environment in .venv with Exhibit installed in it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# libmagic1: file typing. sleuthkit, ewf-tools: independent oracles (fls, icat, ewfverify) and
# fiwalk for the benchmark. e2fsprogs, dosfstools, mtools, qemu-utils, xz-utils, zip: building
# and unpacking test images. file: the benchmark's peer. libimage-exiftool-perl: the media oracle
# and the media benchmark's peer. python3-venv: the environment.
PACKAGES="libimage-exiftool-perl zlib1g-dev fonts-dejavu-core fonts-droid-fallback poppler-utils libmagic1 file sleuthkit android-sdk-libsparse-utils ewf-tools e2fsprogs dosfstools ntfs-3g mtools qemu-utils xz-utils zip unzip python3-venv python3-dev gcc"
missing=""
for package in $PACKAGES; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
bash scripts/build_pyewf_zlib.sh .venv
