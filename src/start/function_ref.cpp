// Code references on the wire, and the tag that binds a function to the
// trampoline that will call it (code_ref.hpp).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>
#include <string>

#include "multiproc/detail/code_ref.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"
#include "start/program_key.hpp"

namespace multiproc::detail {
namespace {

using Tag = std::array<std::uint8_t, 32>;

// Length-prefixed fields, so that no two different pairs give the same
// bytes.
void append(std::string& out, const CodeRef& ref) {
  std::uint64_t size = ref.object.size();
  out.append(reinterpret_cast<const char*>(&size), sizeof size);
  out += ref.object;
  out.append(reinterpret_cast<const char*>(&ref.offset), sizeof ref.offset);
}

Tag tag_of(const CodeRef& entry, const CodeRef& fn) {
  std::string text;
  append(text, entry);
  append(text, fn);
  const ProgramKey& key = program_key();
  Tag tag{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(text.data()), text.size(), tag.data(),
           &length) == nullptr ||
      length != tag.size()) {
    throw Error("multiproc: HMAC-SHA256 of a function reference failed (OpenSSL)");
  }
  return tag;
}

}  // namespace

void write_code_ref(WireWriter& out, const CodeRef& ref) {
  out.str(ref.object);
  out.u64(ref.offset);
}

CodeRef read_code_ref(WireReader& in) {
  CodeRef ref;
  ref.object = in.str();
  ref.offset = in.u64();
  return ref;
}

void write_function_ref(WireWriter& out, const CodeRef& entry, const CodeRef& fn) {
  write_code_ref(out, fn);
  Tag tag = tag_of(entry, fn);
  out.raw(tag.data(), tag.size());
}

CodeRef read_function_ref(WireReader& in, const CodeRef& entry) {
  CodeRef fn = read_code_ref(in);
  Tag received{};
  in.raw(received.data(), received.size());
  Tag expected = tag_of(entry, fn);
  if (CRYPTO_memcmp(received.data(), expected.data(), expected.size()) != 0) {
    throw DecodeError(
        "multiproc: a function reference carries no valid tag: the message was not written by "
        "a process of this program (a forged or corrupted message); nothing was called");
  }
  return fn;
}

}  // namespace multiproc::detail
