#!/usr/bin/env bash
# Installs everything turnprobe needs to build, test and run its demo (Debian 12, as root).
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config clang
  libnice-dev libssl-dev libglib2.0-dev libjson-glib-dev libpcap-dev
  coturn tshark nftables iproute2 dnsmasq tinyproxy dante-server
  python3 python3-jsonschema chromium valgrind openssl ca-certificates
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  apt-get -o DPkg::Lock::Timeout=600 update
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
fi
# Debian starts some of these services on install; the tests start their own instances.
for svc in coturn tinyproxy danted dnsmasq; do
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
