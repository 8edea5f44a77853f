#!/usr/bin/env bash
# Installs the Debian 12 packages encore builds and tests with (pinned versions).
# Idempotent: does nothing when every package is already at its pinned version.
set -euo pipefail

PACKAGES=(
  cmake=3.25.1-1
  ninja-build=1.11.1-2~deb12u1
  g++=4:12.2.0-3
  pkg-config=1.8.1-1
  libdnnl-dev=2.6.3-1
  ocl-icd-opencl-dev=2.3.1-1
  opencl-c-headers=3.0~2023.02.06-1
  nlohmann-json3-dev=3.11.2-2
  libboost-dev=1.74.0.3
  libutf8proc-dev=2.8.0-1
  libonig-dev=6.9.8-1
  libgtest-dev=1.12.1-0.2
  libbenchmark-dev=1.7.1-1
  clang-14=1:14.0.6-12
  libclang-rt-14-dev=1:14.0.6-12
  python3-pip=23.0.1+dfsg-1
  python3-venv=3.11.2-1+b1
  python3-dev=3.11.2-1+b1
)

missing=()
# Java 17 for local-mode Spark (tests/python/test_scale_out.py). Any Debian 12 build of it
# will do, and security updates replace the archive's version often, so it is pinned only
# where it is missing: to the bookworm point release.
if ! dpkg-query -W -f='${Status}' openjdk-17-jre-headless 2>/dev/null | grep -q "ok installed"; then
  missing+=(openjdk-17-jre-headless=17.0.19+10-1~deb12u2)
fi
for spec in "${PACKAGES[@]}"; do
  name=${spec%%=*} version=${spec#*=}
  have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)
  [ "$have" = "$version" ] || missing+=("$spec")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
