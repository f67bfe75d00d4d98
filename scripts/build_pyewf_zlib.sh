#!/usr/bin/env bash
# Rebuild pyewf (libewf-python) from its PyPI source against the system zlib.
#
# The PyPI wheel is built with libewf's own DEFLATE decoder, which reads compressed E01 chunks at
# about 80 MB/s here; linked against zlib the same reads run about 4x faster (see
# docs/benchmarks.md). The source's build script configures libewf with --disable-shared-libs,
# which also turns zlib off, so the configure line is changed to keep the bundled libyal
# libraries but use zlib (no OpenSSL, no bzip2: EWF reading needs neither). Safe to run again:
# it does nothing when pyewf already links zlib. If the source's build script has changed so that
# the line is not found, it says so and leaves the wheel in place.
set -euo pipefail
venv="${1:-.venv}"
python="$venv/bin/python"
module=$("$python" -c "import pyewf; print(pyewf.__file__)")
# `ldd | grep -q` under pipefail fails at random: grep -q exits at the first match and ldd dies of
# SIGPIPE. The output is read whole first, then searched.
links_zlib() { local libraries; libraries=$(ldd "$1") && [[ $libraries == *libz.so* ]]; }
if links_zlib "$module"; then
  exit 0
fi
version=$("$python" -c "import importlib.metadata as m; print(m.version('libewf-python'))")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m pip download -q --no-binary :all: --no-deps "libewf-python==$version" -d "$work"
tar -xzf "$work"/libewf_python-"$version".tar.gz -C "$work"
source_dir="$work/libewf_python-$version"
old='configure --disable-nls --disable-shared-libs"'
new='configure --disable-nls --with-zlib=yes --without-openssl --without-bzip2"'
if ! grep -q -- "$old" "$source_dir/_build.py"; then
  echo "build_pyewf_zlib: libewf-python $version builds differently; keeping the wheel (E01 reads stay slow)" >&2
  exit 0
fi
sed -i "s|$old|$new|" "$source_dir/_build.py"
LDFLAGS="-Wl,--no-as-needed -lz" "$python" -m pip install -q --no-deps --force-reinstall --no-cache-dir "$source_dir"
module=$("$python" -c "import pyewf; print(pyewf.__file__)")
links_zlib "$module" || { echo "build_pyewf_zlib: rebuilt pyewf does not link zlib" >&2; exit 1; }
"$python" -c "import pyewf; pyewf.handle()"
