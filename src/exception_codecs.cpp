#include "exception_codecs.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <typeinfo>

#include "multiproc/error.hpp"
#include "multiproc/register_exception.hpp"

namespace multiproc::detail {
namespace {

// 256 types: far more than a program throws across a pool; one more makes
// register_exception return false (that type stays a RemoteError).
constexpr std::size_t kCodecs = 256;

struct CodecSlot {
  std::atomic<bool> ready{false};
  ExceptionCodec codec;
};

std::array<CodecSlot, kCodecs> g_codecs;
std::atomic<std::size_t> g_claimed{0};

template <class Match>
const ExceptionCodec* find(Match match) {
  std::size_t n = std::min(g_claimed.load(std::memory_order_acquire), kCodecs);
  for (std::size_t i = 0; i < n; ++i) {
    if (g_codecs[i].ready.load(std::memory_order_acquire) && match(g_codecs[i].codec)) {
      return &g_codecs[i].codec;
    }
  }
  return nullptr;
}

}  // namespace

std::string type_name(const std::type_info& type) {
  int status = 0;
  char* s = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string out = status == 0 && s != nullptr ? s : type.name();
  std::free(s);
  return out;
}

bool add_exception_codec(const ExceptionCodec& codec) noexcept {
  std::size_t i = g_claimed.fetch_add(1, std::memory_order_acq_rel);
  if (i >= kCodecs) return false;
  g_codecs[i].codec = codec;
  g_codecs[i].ready.store(true, std::memory_order_release);
  return true;
}

std::optional<std::string> registered_fields_of_current_exception() noexcept {
  const std::type_info* thrown = abi::__cxa_current_exception_type();
  if (thrown == nullptr) return std::nullopt;
  const ExceptionCodec* codec = find([&](const ExceptionCodec& c) { return *c.type == *thrown; });
  if (codec == nullptr) return std::nullopt;
  try {
    std::string fields;
    codec->save(fields);
    return fields;
  } catch (...) {
    return std::nullopt;  // its fields would not serialize: it goes as a RemoteError
  }
}

std::exception_ptr remote_exception(ExceptionInfo info, const std::optional<std::string>& fields,
                                    std::optional<std::size_t> item) {
  if (fields) {
    const ExceptionCodec* codec =
        find([&](const ExceptionCodec& c) { return type_name(*c.type) == info.type; });
    if (codec != nullptr) {
      try {
        return codec->load(info.message, std::as_bytes(std::span(fields->data(), fields->size())));
      } catch (const DecodeError&) {
        // Fall through: the RemoteError still says what was thrown.
      }
    }
  }
  return std::make_exception_ptr(RemoteError(std::move(info), item));
}

}  // namespace multiproc::detail
