// Included before every C++ snippet of README.md and docs/*.md when
// check_snippets.sh compiles them: what a reader may assume the snippet has
// around it.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <multiproc/multiproc.hpp>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace mp = multiproc;
using namespace std::chrono_literals;
