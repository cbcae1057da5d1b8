#include "ipc/handshake.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>

#include "multiproc/error.hpp"

namespace multiproc::detail::handshake {
namespace {

constexpr std::string_view kChallenge = "#CHALLENGE#";
constexpr std::string_view kDigestName = "{sha256}";
constexpr std::string_view kWelcome = "#WELCOME#";
constexpr std::string_view kFailure = "#FAILURE#";
constexpr std::size_t kDigestBytes = 32;

std::array<unsigned char, kDigestBytes> hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, kDigestBytes> out{};
  unsigned int len = 0;
  // An empty key is legal for HMAC; OpenSSL wants a non-null pointer for it.
  static const char empty = 0;
  const void* k = key.empty() ? &empty : key.data();
  if (HMAC(EVP_sha256(), k, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &len) == nullptr ||
      len != kDigestBytes) {
    throw Error("multiproc: HMAC-SHA256 failed in libcrypto");
  }
  return out;
}

}  // namespace

std::string make_challenge() {
  std::array<unsigned char, kNonceBytes> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    throw Error("multiproc: the random generator (libcrypto RAND_bytes) failed");
  }
  std::string m(kChallenge);
  m += kDigestName;
  m.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  return m;
}

std::string_view signed_part(std::string_view challenge) {
  if (challenge.size() > kMaxMessage || !challenge.starts_with(kChallenge)) {
    throw DecodeError("multiproc: handshake: the peer's first message is not a challenge");
  }
  std::string_view rest = challenge.substr(kChallenge.size());
  if (!rest.starts_with(kDigestName)) {
    throw DecodeError("multiproc: handshake: the challenge asks for a digest other than sha256");
  }
  if (rest.size() - kDigestName.size() < 20) {
    throw DecodeError("multiproc: handshake: the challenge is too short to be safe");
  }
  return rest;
}

std::string make_answer(std::string_view key, std::string_view signed_part) {
  auto digest = hmac_sha256(key, signed_part);
  std::string a(kDigestName);
  a.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return a;
}

bool check_answer(std::string_view key, std::string_view signed_part, std::string_view answer) {
  if (answer.size() != kDigestName.size() + kDigestBytes || !answer.starts_with(kDigestName)) {
    return false;
  }
  auto digest = hmac_sha256(key, signed_part);
  return CRYPTO_memcmp(digest.data(), answer.data() + kDigestName.size(), kDigestBytes) == 0;
}

std::string_view welcome() noexcept {
  return kWelcome;
}

std::string_view failure() noexcept {
  return kFailure;
}

bool parse_verdict(std::string_view message) {
  if (message == kWelcome) return true;
  if (message == kFailure) return false;
  throw DecodeError("multiproc: handshake: the peer's verdict is neither welcome nor failure");
}

}  // namespace multiproc::detail::handshake
