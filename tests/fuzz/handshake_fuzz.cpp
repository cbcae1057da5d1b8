// libFuzzer target: the authkey handshake of Listener and Client
// (ipc/handshake.hpp), which reads bytes from a peer that has not proved
// anything yet. Whatever the bytes, the decoders return or throw
// DecodeError: no crash, no read out of bounds. The first byte chooses
// which message the rest is read as.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ipc/handshake.hpp"
#include "multiproc/error.hpp"

namespace hs = multiproc::detail::handshake;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 3) {
      case 0: {  // a challenge: answer it as a client would
        std::string_view part = hs::signed_part(bytes);
        std::string answer = hs::make_answer("key", part);
        if (!hs::check_answer("key", part, answer)) __builtin_trap();
        break;
      }
      case 1: {  // an answer to our challenge
        std::string challenge = hs::make_challenge();
        (void)hs::check_answer("key", hs::signed_part(challenge), bytes);
        break;
      }
      default:  // a verdict
        (void)hs::parse_verdict(bytes);
        break;
    }
  } catch (const multiproc::DecodeError&) {
  }
  return 0;
}
