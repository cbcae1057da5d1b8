// The authkey handshake of Listener and Client: each side proves to the other
// that it knows the key, without sending it (Python 3.12's scheme, carried
// in multiproc frames). One symmetric module: encode and decode side by side.
//
//   challenger -> answerer   "#CHALLENGE#" "{sha256}" 40 random bytes
//   answerer -> challenger   "{sha256}" HMAC-SHA256(key, "{sha256}" + the 40 bytes)
//   challenger -> answerer   "#WELCOME#" or "#FAILURE#"
//
// The Listener challenges first, then answers the Client's challenge. Every
// message is at most kMaxMessage bytes (a longer frame is refused before it
// is read). HMAC, randomness and the constant-time comparison are OpenSSL's
// libcrypto. The decoders take bytes from an unauthenticated peer and are
// fuzzed (tests/fuzz/handshake_fuzz.cpp): a malformed message is a
// DecodeError, never a crash.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace multiproc::detail::handshake {

inline constexpr std::size_t kMaxMessage = 256;
inline constexpr std::size_t kNonceBytes = 40;

// A new challenge (kChallenge, "{sha256}", fresh random bytes). Throws
// SystemError when the random generator fails.
std::string make_challenge();
// The part of `challenge` that the answer signs ("{sha256}" + nonce).
// DecodeError unless it is a well-formed challenge naming sha256.
std::string_view signed_part(std::string_view challenge);
// The answer to a challenge whose signed part is `signed_part`.
std::string make_answer(std::string_view key, std::string_view signed_part);
// Whether `answer` is the right answer (constant-time comparison); false
// for any malformed answer.
bool check_answer(std::string_view key, std::string_view signed_part, std::string_view answer);

std::string_view welcome() noexcept;
std::string_view failure() noexcept;
// True for "#WELCOME#", false for "#FAILURE#"; DecodeError for anything else.
bool parse_verdict(std::string_view message);

}  // namespace multiproc::detail::handshake
