#!/usr/bin/env bash
# Set up everything the project needs on a fresh Debian machine (Python 3.11+, root or sudo):
# the Debian libraries WeasyPrint and the tests use, then a virtualenv in .venv with the project installed.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'

# libpango*: WeasyPrint's text layout; libharfbuzz-subset0: fast font subsetting when writing PDFs (3-7x);
# fontconfig: font lookup; poppler-utils: pdftoppm/pdffonts to look at and inspect the PDFs;
# postgresql: the team-server profile's instance storage (docs/deploy.md), started on a loopback port by its test.
DEBIAN_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig poppler-utils postgresql)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev,team,cluster]'
echo "setup: ok (.venv ready)"
