#!/bin/sh
# usage: run_consumer_test.sh BUILD_DIR CONSUMER_SOURCE WORK_DIR CXX
set -eu
build=$1 source=$2 work=$3 cxx=$4
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null

cmake -S "$source" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$work/build" >/dev/null
printf 'find_package consumer: '
"$work/build/consumer"

libdir=$(ls -d "$work"/prefix/lib*/pkgconfig | head -n 1)
# shellcheck disable=SC2046
"$cxx" -std=c++20 -o "$work/consumer_pc" "$source/main.cpp" \
  $(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs multiproc)
printf 'pkg-config consumer: '
"$work/consumer_pc"
rm -rf "$work"
