// RELIABILITY 27 for the user's function: a message whose function
// reference was changed — to another function of the same signature, or
// moved to another trampoline — is refused before anything is called, on
// the path every spawn and forkserver child takes (run_task) and on the pool
// worker's (read_function_ref). The reference's tag is an HMAC under the
// program's key (code_ref.hpp, docs/reliability.md).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>

#include "multiproc/detail/code_ref.hpp"
#include "multiproc/detail/process_target.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"
#include "process/identity.hpp"
#include "start/child_task.hpp"
#include "start/task_message.hpp"

namespace mp = multiproc;
namespace d = mp::detail;

namespace {

std::atomic<int> g_called{0};

int asked_for(int x) {
  g_called = 1;
  return x;
}
int forged(int x) {
  g_called = 2;
  return x + 1;
}
void other_signature(long) {
  g_called = 3;
}

// The task bytes a spawn or forkserver child would get for asked_for(5).
std::string task_bytes() {
  auto target = d::make_target(asked_for, 5);
  d::WireWriter w;
  target->encode(w);
  return w.data();
}

// Replaces the first occurrence of `from`'s offset by `to`'s: the function
// reference, which follows the trampoline's (a different offset).
std::string with_offset_of(std::string bytes, const void* from, const void* to) {
  std::uint64_t a = d::code_ref(from).offset, b = d::code_ref(to).offset;
  auto at = bytes.find(std::string(reinterpret_cast<const char*>(&a), sizeof a));
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos)
    bytes.replace(at, sizeof b, reinterpret_cast<const char*>(&b), sizeof b);
  return bytes;
}

// What a spawn or forkserver child does with the task: its exit code.
int run_as_child(const std::string& task) {
  d::IdentitySeed identity =
      d::make_child_identity("forged", 1, false, multiproc::StartMethod::spawn);
  std::string message = d::encode_task_message(identity, task, 0);
  d::TaskMessage parsed =
      d::parse_task_message(std::as_bytes(std::span(message.data(), message.size())));
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int code = d::run_task(parsed, {}, sv[1]);
  ::close(sv[0]);
  ::close(sv[1]);
  return code;
}

}  // namespace

TEST(FunctionRefs, TheMessageAsWrittenRunsTheFunctionAskedFor) {
  g_called = 0;
  EXPECT_EQ(run_as_child(task_bytes()), 5);
  EXPECT_EQ(g_called.load(), 1);
}

TEST(FunctionRefs, AnotherFunctionOfTheSameSignatureIsRefusedBeforeAnythingRuns) {
  g_called = 0;
  std::string forged_task = with_offset_of(task_bytes(), reinterpret_cast<const void*>(&asked_for),
                                           reinterpret_cast<const void*>(&forged));
  EXPECT_EQ(run_as_child(forged_task), 1);  // the child reports the DecodeError
  EXPECT_EQ(g_called.load(), 0) << "a forged reference was called";
}

TEST(FunctionRefs, AFunctionReferenceIsBoundToItsTrampoline) {
  d::CodeRef entry = d::entry_ref<&d::decode_target<int (*)(int), int>>();
  d::CodeRef other_entry = d::entry_ref<&d::decode_target<void (*)(long), long>>();
  d::CodeRef fn = d::code_ref(reinterpret_cast<const void*>(&asked_for));
  d::WireWriter w;
  d::write_function_ref(w, entry, fn);
  auto bytes = std::as_bytes(std::span(w.data().data(), w.data().size()));
  {
    d::WireReader in(bytes, {});
    d::CodeRef read = d::read_function_ref(in, entry);
    EXPECT_EQ(read.object, fn.object);
    EXPECT_EQ(read.offset, fn.offset);
  }
  {
    // The same reference and tag, read for a trampoline of another signature.
    d::WireReader in(bytes, {});
    EXPECT_THROW(d::read_function_ref(in, other_entry), mp::DecodeError);
  }
  {
    // A reference to another function with the first one's tag.
    d::WireWriter forged_writer;
    d::write_function_ref(forged_writer, entry, fn);
    std::string text = forged_writer.data();
    std::string forged_text = with_offset_of(text, reinterpret_cast<const void*>(&asked_for),
                                             reinterpret_cast<const void*>(&other_signature));
    d::WireReader in(std::as_bytes(std::span(forged_text.data(), forged_text.size())), {});
    EXPECT_THROW(d::read_function_ref(in, entry), mp::DecodeError);
  }
}

TEST(FunctionRefs, ATruncatedTagIsADecodeError) {
  d::CodeRef entry = d::entry_ref<&d::decode_target<int (*)(int), int>>();
  d::WireWriter w;
  d::write_function_ref(w, entry, d::code_ref(reinterpret_cast<const void*>(&asked_for)));
  std::string text = w.data().substr(0, w.data().size() - 1);
  d::WireReader in(std::as_bytes(std::span(text.data(), text.size())), {});
  EXPECT_THROW(d::read_function_ref(in, entry), mp::DecodeError);
}
