// Code references on the wire, and the tag that binds a function to the
// trampoline that will call it (code_ref.hpp).
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

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

// HMAC-SHA256 from a library context of our own: it loads no configuration
// file (the default context reads openssl.cnf, tens of milliseconds, in
// every spawned child) and leaves the program's own use of OpenSSL alone.
// Made once; a forked child inherits it ready (warm_up_function_tags).
class TagEngine {
 public:
  TagEngine() : context_(OSSL_LIB_CTX_new()) {
    if (context_ != nullptr) mac_ = EVP_MAC_fetch(context_, "HMAC", nullptr);
  }
  ~TagEngine() = delete;  // lives as long as the process; forks keep it

  Tag tag(const std::string& text) const {
    Tag out{};
    EVP_MAC_CTX* ctx = mac_ != nullptr ? EVP_MAC_CTX_new(mac_) : nullptr;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    const ProgramKey& key = program_key();
    std::size_t length = 0;
    bool ok = ctx != nullptr && EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 &&
              EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(text.data()),
                             text.size()) == 1 &&
              EVP_MAC_final(ctx, out.data(), &length, out.size()) == 1 && length == out.size();
    EVP_MAC_CTX_free(ctx);
    if (!ok) throw Error("multiproc: HMAC-SHA256 of a function reference failed (OpenSSL)");
    return out;
  }

 private:
  OSSL_LIB_CTX* context_;
  EVP_MAC* mac_ = nullptr;
};

const TagEngine& engine() {
  static const TagEngine* e = new TagEngine();
  return *e;
}

Tag tag_of(const CodeRef& entry, const CodeRef& fn) {
  std::string text;
  append(text, entry);
  append(text, fn);
  return engine().tag(text);
}

}  // namespace

void warm_up_function_tags() {
  (void)tag_of(CodeRef{}, CodeRef{});
}

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
