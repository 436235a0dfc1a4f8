#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the dashboards' browser test
# (tests/test_dashboards_browser.py) when /usr/bin/chromium is missing. Debian packages only:
# no browser build is downloaded from anywhere else, so it works where only the package
# registries are reachable. Needs root (as on the project's machines and CI).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
# Test workers run side by side (pytest-xdist): the first installs, the others wait for it
# and then find the package there. apt and dpkg would refuse a second installer anyway.
exec 9>/tmp/crimestat-apt.lock
flock 9
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-browser.sh: /usr/bin/chromium is missing and installing it needs root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
