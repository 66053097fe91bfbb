#!/usr/bin/env bash
# Installs moto's S3 server (PyPI `moto[server]`), the object store a durable Tansu broker
# keeps its data in (`s3://`), so that the broker can be restarted without losing its
# topics and committed offsets (Tansu's in-memory storage forgets them; see
# ../shared/infra.md). The load harness's `--spawn-broker` and the broker-restart tests use it.
#
# Usage: scripts/install-moto.sh [DEST_DIR]   (default: target/moto)
# Result: DEST_DIR holds the packages; run the server with
#     PYTHONPATH=DEST_DIR python3 -m moto.server -p PORT
# Idempotent: does nothing if DEST_DIR already imports moto's server.
set -euo pipefail

MOTO_VERSION="5.2.1"

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$root/target/moto}"
python="${PYTHON:-python3}"

if PYTHONPATH="$dest" "$python" -c 'import moto.server' >/dev/null 2>&1 \
    && [ -f "$dest/.moto-$MOTO_VERSION" ]; then
    echo "moto already installed: $dest"
    exit 0
fi

if ! "$python" -m pip --version >/dev/null 2>&1; then
    echo "error: $python -m pip is not available; install pip (python3-pip) first" >&2
    exit 1
fi

# Into a fresh directory, then renamed, so that a concurrent run never sees half of it.
tmp="$dest.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "installing moto[server]==$MOTO_VERSION from PyPI into $dest"
install() {
    "$python" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts \
        --target "$tmp" "$@" "moto[server]==$MOTO_VERSION"
}
# A Debian python marks its environment externally managed (PEP 668); --target installs
# outside it, which such a pip may still refuse without the flag.
install || { rm -rf "$tmp"; install --break-system-packages; }
PYTHONPATH="$tmp" "$python" -c 'import moto.server'
touch "$tmp/.moto-$MOTO_VERSION"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp" "$dest"
echo "moto installed: $dest"
