#!/usr/bin/env bash
# What it costs to compile a program against multiproc (docs/performance.md,
# "Compile cost"). Each program of bench/compile_cost/ is compiled RUNS times
# (-O2 -std=c++20, to an object file) by each compiler, interleaved so that
# machine load hits them alike; prints the median wall time, its ratio to the
# plain <iostream> hello of the same run, and the preprocessed line count
# (g++ -E | wc -l).
#
#   bench/compile_cost.sh                      # g++ and clang++, 5 runs
#   RUNS=9 COMPILERS="g++" bench/compile_cost.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
include=${INCLUDE:-"$here/../include"}
runs=${RUNS:-5}
compilers=${COMPILERS:-"g++ clang++"}
programs="hello_iostream hello_process hello_multiproc pool_program pool_multiproc"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Median of the numbers on stdin.
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

seconds() {  # compiler program -> wall seconds of one compile
  local start end
  start=$(date +%s.%N)
  "$1" -std=c++20 -O2 -I"$include" -c "$here/compile_cost/$2.cpp" -o "$out/$2.o"
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

for cxx in $compilers; do
  for ((i = 0; i < runs; i++)); do
    for p in $programs; do seconds "$cxx" "$p" >>"$out/$cxx.$p"; done
  done
done

printf '%-16s' program
for cxx in $compilers; do printf ' %10s %7s' "$cxx s" ratio; done
printf ' %12s\n' 'lines (-E)'
for p in $programs; do
  printf '%-16s' "$p"
  for cxx in $compilers; do
    m=$(median <"$out/$cxx.$p")
    ref=$(median <"$out/$cxx.hello_iostream")
    printf ' %10.2f %7.2f' "$m" "$(echo "$m / $ref" | bc -l)"
  done
  lines=$(g++ -std=c++20 -O2 -I"$include" -E "$here/compile_cost/$p.cpp" | wc -l)
  printf ' %12d\n' "$lines"
done
echo "($runs runs each, medians; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
