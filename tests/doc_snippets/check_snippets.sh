#!/bin/bash
# Compiles every ```cpp block of README.md and docs/*.md (issue 16.5), and
# checks that README's first program is examples/first_program.cpp as it is
# (ctest runs that file, so the README's program is run too).
#
#   check_snippets.sh CXX SOURCE_DIR
#
# A block is a translation unit after tests/doc_snippets/prelude.hpp (the
# includes, `namespace mp = multiproc;`, chrono literals). A block right after
# a line `<!-- snippet: statements -->` is the body of a function instead.
# -fsyntax-only: a snippet must compile; running is the examples' job.
# -Wno-unused: a snippet shows a call and names its result without using it.
set -u
cxx=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# README's program is the example file, from its first #include on.
sed -n '/^#include <multiproc\/multiproc.hpp>/,$p' "$src/examples/first_program.cpp" >"$work/expected"
awk '/^## Your first program/{s=1} s&&/^```cpp$/{p=1;next} p&&/^```$/{exit} p' "$src/README.md" >"$work/readme_program"
if ! cmp -s "$work/expected" "$work/readme_program"; then
  echo "README.md: the first program differs from examples/first_program.cpp:"
  diff "$work/expected" "$work/readme_program" | head -20
  failures=$((failures + 1))
fi

count=0
for doc in "$src/README.md" "$src"/docs/*.md; do
  # One file per block: NAME.N.cpp, wrapped when marked as statements.
  awk -v out="$work/$(basename "$doc" .md)" '
    /^<!-- snippet: statements -->$/ { statements = 1; next }
    /^```cpp$/ { n++; file = out "." n ".cpp"; inside = 1
                 if (statements) print "void snippet_body() {" > file
                 else printf "" > file
                 next }
    inside && /^```$/ { if (statements) print "}" > file
                        close(file); inside = 0; statements = 0; next }
    inside { print > file; next }
    { statements = 0 }
  ' "$doc"
done
for snippet in "$work"/*.cpp; do
  [ -e "$snippet" ] || continue
  count=$((count + 1))
  name=$(basename "$snippet" .cpp)
  if ! "$cxx" -std=c++20 -fsyntax-only -Wall -Wno-unused -I "$src/include" \
      -include "$src/tests/doc_snippets/prelude.hpp" "$snippet" 2>"$work/$name.err"; then
    echo "snippet $name (block ${name##*.} of ${name%.*}.md) does not compile:"
    head -20 "$work/$name.err"
    failures=$((failures + 1))
  fi
done
echo "$count snippets compiled, $failures failures"
[ "$count" -gt 0 ] && [ "$failures" -eq 0 ]
