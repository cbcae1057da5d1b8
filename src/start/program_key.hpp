// The secret that authenticates function references between the processes
// of one program (code_ref.hpp). Made from getrandom when the library is
// loaded, so every process forked afterwards (the forkserver, a pool's
// zygote, their children) has it; a spawned child gets it from its parent in
// its MULTIPROC_SPAWN variable (spawn.hpp), read and removed by init before
// any message is decoded. No other process of the machine can learn it
// without the rights to read this process's memory, which would let it run
// any code here anyway.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace multiproc::detail {

using ProgramKey = std::array<std::uint8_t, 32>;

const ProgramKey& program_key() noexcept;
// Hex, for the spawn variable.
std::string program_key_hex();
// Adopts the parent's key (spawned child); false if `hex` is malformed.
bool adopt_program_key(std::string_view hex) noexcept;

}  // namespace multiproc::detail
