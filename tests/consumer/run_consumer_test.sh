#!/bin/sh
# usage: run_consumer_test.sh BUILD_DIR CONSUMER_SOURCE WORK_DIR CXX [install|deb]
#
# install (default): `cmake --install` of BUILD_DIR into a scratch prefix.
# deb: `cpack -G DEB` in BUILD_DIR (make package), then the .deb unpacked
#      with dpkg-deb into a scratch root, its declared dependencies checked.
# Either way, a separate project is then built against what was installed,
# through find_package and through pkg-config, and run.
set -eu
build=$1 source=$2 work=$3 cxx=$4 mode=${5:-install}
rm -rf "$work"
mkdir -p "$work"
if [ "$mode" = deb ]; then
  (cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" >/dev/null)
  deb=$(ls "$work"/libmultiproc-dev_*.deb)
  depends=$(dpkg-deb -f "$deb" Depends)
  for need in libcereal-dev libssl-dev; do
    case "$depends" in *"$need"*) ;; *) echo "the package does not depend on $need: $depends"; exit 1 ;; esac
  done
  dpkg-deb -x "$deb" "$work/root"
  prefix="$work/root/usr"
else
  cmake --install "$build" --prefix "$work/prefix" >/dev/null
  prefix="$work/prefix"
fi

cmake -S "$source" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$work/build" >/dev/null
printf 'find_package consumer: '
"$work/build/consumer"

libdir=$(dirname "$(find "$prefix" -name multiproc.pc | head -n 1)")
# No -std flag here: the package's Cflags must bring -std=c++20 (README).
# shellcheck disable=SC2046
"$cxx" -o "$work/consumer_pc" "$source/main.cpp" \
  $(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs multiproc)
printf 'pkg-config consumer: '
"$work/consumer_pc"
rm -rf "$work"
