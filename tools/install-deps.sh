#!/bin/sh
# Installs every Debian 12 package ward needs to build, test and benchmark.
# Run as root on a fresh machine; safe to run again.
set -eu
export DEBIAN_FRONTEND=noninteractive
PACKAGES="
  build-essential cmake pkg-config git
  libseccomp-dev liblz4-dev libcriterion-dev libunwind-dev libcapstone-dev
  busybox-static python3 coreutils bash procps
  runsc proot gnuplot-nox util-linux tmux iproute2
  dnsutils
"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it)" >&2
  exit 1
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
echo "install-deps: all packages present"
