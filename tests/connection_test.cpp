// Pipe and Connection: typed and raw messages, poll, peer death, hostile
// bytes, and messages larger than 2 GiB.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ipc/frame.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

struct Order {
  std::string item;
  std::map<std::string, int> options;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(item, options);
  }
};

void write_raw(int fd, const void* data, size_t n) {
  ASSERT_EQ(write(fd, data, n), static_cast<ssize_t>(n));
}

}  // namespace

TEST(Connection, TypedMessagesCrossProcesses) {
  auto [parent, child] = mp::Pipe();
  mp::Process p(
      [](mp::Connection& c) {
        int n = c.recv<int>();
        auto order = c.recv<Order>();
        c.send(n * 2);
        c.send(order.item + "/" + std::to_string(order.options.at("size")));
      },
      std::move(child));
  p.start();
  parent.send(21);
  parent.send(Order{"pizza", {{"size", 3}}});
  EXPECT_EQ(parent.recv<int>(), 42);
  EXPECT_EQ(parent.recv<std::string>(), "pizza/3");
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Connection, RawBytesAndReceivingIntoACallersBuffer) {
  auto [a, b] = mp::Pipe();
  a.send_bytes("hello");
  mp::Bytes got = b.recv_bytes();
  EXPECT_EQ(got.view(), "hello");
  a.send_bytes("0123456789");
  std::byte buf[16];
  EXPECT_EQ(b.recv_bytes_into(buf), 10u);
  EXPECT_EQ(std::memcmp(buf, "0123456789", 10), 0);
  a.send_bytes(std::string(100, 'z'));
  try {
    b.recv_bytes_into(buf);
    ADD_FAILURE() << "no BufferTooShort";
  } catch (const mp::BufferTooShort& e) {
    EXPECT_EQ(e.message().size(), 100u);  // the message travels in the exception
  }
  a.send_bytes("");
  EXPECT_TRUE(b.recv_bytes().empty());
}

TEST(Connection, PollWaitsUpToItsTimeout) {
  auto [a, b] = mp::Pipe();
  EXPECT_FALSE(b.poll());
  EXPECT_FALSE(b.poll(10ms));
  EXPECT_EQ(b.recv<int>(10ms), std::nullopt);
  a.send(5);
  EXPECT_TRUE(b.poll(std::nullopt));
  EXPECT_EQ(b.recv<int>(1s), 5);
}

TEST(Connection, ManyMessagesArriveInOrder) {
  auto [a, b] = mp::Pipe();
  mp::Process p(
      [](mp::Connection& c) {
        for (int i = 0; i < 100000; ++i) c.send(i);
      },
      std::move(a));
  p.start();
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(b.recv<int>(), i);
  p.join();
}

TEST(Connection, RecvRaisesEofAtOnceWhenThePeerDies) {
  auto [parent, child] = mp::Pipe();
  mp::Process p([](mp::Connection& c) { c.recv<int>(); }, std::move(child));
  p.start();
  p.kill();
  EXPECT_THROW(parent.recv<int>(), mp::EOFError);  // no hang
  p.join();
}

TEST(Connection, SendRaisesBrokenPipeWithoutSigpipe) {
  auto [a, b] = mp::Pipe();
  b.close();
  // SIGPIPE's default action would kill this test process.
  EXPECT_THROW(a.send(1), mp::BrokenPipeError);
  EXPECT_THROW(a.send_bytes(std::string(1 << 20, 'x')), mp::BrokenPipeError);
}

TEST(Connection, SendToAPeerKilledInTheMiddleOfALargeMessageFails) {
  // RELIABILITY 6: the receiver dies while a large payload is being sent.
  auto [parent, child] = mp::Pipe();
  mp::Process p(
      [](mp::Connection& c) {
        c.send(1);  // ready
        pause();    // never reads the big message
      },
      std::move(child));
  p.start();
  ASSERT_EQ(parent.recv<int>(), 1);
  std::thread killer([&p] { p.kill(); });
  EXPECT_THROW(parent.send_bytes(std::string(64 << 20, 'x')), mp::BrokenPipeError);
  killer.join();
  p.join();
}

TEST(Connection, OneWayPipeEnforcesItsDirection) {
  auto [reader, writer] = mp::Pipe(false);
  EXPECT_FALSE(reader.writable());
  EXPECT_FALSE(writer.readable());
  EXPECT_THROW(reader.send(1), mp::UsageError);
  EXPECT_THROW(writer.recv<int>(), mp::UsageError);
  writer.send(std::string("one way"));
  EXPECT_EQ(reader.recv<std::string>(), "one way");
}

TEST(Connection, ClosedConnectionIsAClearError) {
  auto [a, b] = mp::Pipe();
  a.close();
  EXPECT_TRUE(a.closed());
  EXPECT_THROW(a.send(1), mp::UsageError);
  EXPECT_THROW(b.recv<int>(), mp::EOFError);
}

TEST(Connection, WrongTypeIsADecodeError) {
  auto [a, b] = mp::Pipe();
  a.send(1.5);
  EXPECT_THROW(b.recv<int>(), mp::DecodeError);
  a.send_bytes("raw");
  EXPECT_THROW(b.recv<std::string>(), mp::DecodeError);
}

TEST(Connection, GarbageBytesAreAProtocolError) {
  auto [a, b] = mp::Pipe();
  const char junk[] = "this is not a frame at all";
  write_raw(a.fd(), junk, sizeof junk);
  EXPECT_THROW(b.recv_bytes(), mp::ProtocolError);
}

TEST(Connection, HostileLengthIsRefusedBeforeAllocating) {
  auto [a, b] = mp::Pipe();
  b.set_max_message(1 << 20);
  mp::detail::FrameHeader h{mp::detail::kFrameMagic, 0, 1ull << 50};
  write_raw(a.fd(), &h, sizeof h);
  EXPECT_THROW(b.recv_bytes(), mp::ProtocolError);
}

TEST(Connection, TruncatedMessageIsEofNeverDelivered) {
  // Announces 10 GiB (under the default limit), sends 5 bytes, and closes:
  // nothing near 10 GiB is allocated and nothing is delivered.
  auto [a, b] = mp::Pipe();
  mp::detail::FrameHeader h{mp::detail::kFrameMagic, 0, 10ull << 30};
  write_raw(a.fd(), &h, sizeof h);
  write_raw(a.fd(), "12345", 5);
  a.close();
  try {
    b.recv_bytes();
    ADD_FAILURE() << "no error";
  } catch (const mp::EOFError& e) {
    EXPECT_NE(std::string(e.what()).find("middle of a message"), std::string::npos) << e.what();
  }
}

TEST(Connection, MessagesOfThreeGigabytesGoThrough) {
  // RELIABILITY 28: 64-bit framing.
  constexpr size_t kSize = (3ull << 30) + 123;
  auto [parent, child] = mp::Pipe();
  mp::Process p(
      [](mp::Connection& c) {
        mp::Bytes big(kSize);
        for (size_t i = 0; i < kSize; i += 4096) big.data()[i] = static_cast<std::byte>(i >> 12);
        big.data()[kSize - 1] = std::byte{0x5a};
        c.send_bytes(big.span());
      },
      std::move(child));
  p.start();
  mp::Bytes got = parent.recv_bytes();
  p.join();
  ASSERT_EQ(got.size(), kSize);
  for (size_t i = 0; i < kSize; i += 4096) {
    ASSERT_EQ(got.data()[i], static_cast<std::byte>(i >> 12)) << i;
  }
  EXPECT_EQ(got.data()[kSize - 1], std::byte{0x5a});
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Connection, CapturedInsteadOfPassedIsAClearError) {
  auto ends = mp::Pipe();  // not a structured binding: clang 14 cannot capture those
  mp::Connection& a = ends.first;
  mp::Connection& b = ends.second;
  mp::Process p([&a] {
    int reused = open("/dev/null", O_WRONLY | O_CLOEXEC);  // may take a's old number
    (void)reused;
    try {
      a.send(1);
      return 1;
    } catch (const mp::UsageError&) {
      return 0;
    }
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_FALSE(b.poll());
}

TEST(Connection, FromFdAdoptsASocketAndRefusesAnythingElse) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto a = mp::Connection::from_fd(fds[0]);
  auto b = mp::Connection::from_fd(fds[1]);
  a.send(7);
  EXPECT_EQ(b.recv<int>(), 7);
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  EXPECT_THROW(mp::Connection::from_fd(p[0]), mp::UsageError);
  close(p[0]);
  close(p[1]);
}
