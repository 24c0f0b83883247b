#!/usr/bin/env bash
# Installs the Debian packages nnft needs to build, test and run, when any is
# missing. Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libeigen3-dev librandom123-dev libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev libssl-dev openssl
  python3-grpcio python3-protobuf python3-numpy python3-matplotlib python3-pandas
  libopenmpi-dev openmpi-bin python3-yaml
  prometheus-cpp-dev
  clang libclang-rt-14-dev libomp-dev
  debian-archive-keyring  # tests/sanitize/tsan_abseil.sh: Debian's Abseil source
  chromium  # tests/e2e/dashboard_e2e_test.py: the dashboard in headless Chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "nnft: installing missing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Node client (client/node) needs node and npm; install them only when
# node is absent (a newer Node from elsewhere is kept).
if ! command -v node >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
