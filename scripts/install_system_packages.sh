#!/usr/bin/env bash
# Debian packages the product needs outside Python: tesseract (local OCR of images and scanned
# PDF pages) with its English data. Idempotent: installs only what is missing, and runs
# `apt-get update` only when something is. Needs root (or sudo); CI and the dev machines run
# as root. Audio needs no system package: PyAV's wheels carry FFmpeg.
#
#   scripts/install_system_packages.sh          install what is missing
#   scripts/install_system_packages.sh --check  exit 1 (and say what) if something is missing
set -euo pipefail

PACKAGES=(tesseract-ocr tesseract-ocr-eng)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "system packages: all present (${PACKAGES[*]})"
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "system packages missing: ${missing[*]} (run scripts/install_system_packages.sh)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "system packages missing: ${missing[*]}; no apt-get here: install them with the" \
         "system's package manager (OCR fails documents with a clear message until then)" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "system packages missing: ${missing[*]}; run this script as root" >&2
        exit 1
    fi
fi

echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
command -v tesseract >/dev/null && tesseract --version 2>&1 | head -1
