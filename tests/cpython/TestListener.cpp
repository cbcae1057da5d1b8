// Ported from CPython's Lib/test/_test_multiprocessing.py, classes
// _TestListener, _TestListenerClient and OtherTest (line numbers: CPython
// 3.11.2), plus what multiproc adds: the handshake deadline, accept with a
// timeout and a stop token. Network tests use loopback only.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "helpers/start_methods.hpp"
#include "multiproc/context.hpp"
#include "multiproc/error.hpp"
#include "multiproc/listener.hpp"
#include "multiproc/queue.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

std::string socket_path(const char* tag) {
  return "/tmp/multiproc-listener-" + std::string(tag) + "-" + std::to_string(::getpid());
}

// Python's connection.families on Linux: a Unix path, an abstract name, TCP.
std::vector<mp::Address> families() {
  return {mp::UnixAddress{socket_path("family")},
          mp::UnixAddress{std::string(1, '\0') + "mp-t-" + std::to_string(::getpid())},
          mp::TcpAddress{"127.0.0.1", 0}};
}

// _TestListener.test_multiple_bind, line 3371: a second Listener on the
// same address fails (OSError there, SystemError here).
TEST(TestListener, test_multiple_bind) {
  for (const mp::Address& a : families()) {
    mp::Listener l(a);
    EXPECT_THROW(mp::Listener(l.address()), mp::SystemError) << mp::to_string(a);
  }
}

// _TestListener.test_context, line 3378: a default Listener, a Client, a
// value across; accept() after close() fails.
TEST(TestListener, test_context) {
  mp::Listener l;
  {
    mp::Connection c = mp::Client(l.address());
    mp::Connection d = l.accept();
    c.send(1729);
    EXPECT_EQ(d.recv<int>(), 1729);
  }
  l.close();
  EXPECT_THROW(l.accept(), mp::UsageError);
}

// _TestListener.test_abstract_socket, line 3390.
TEST(TestListener, test_abstract_socket) {
  mp::Listener listener(
      mp::UnixAddress{std::string("\0something-", 11) + std::to_string(::getpid())});
  mp::Connection client = mp::Client(listener.address());
  mp::Connection d = listener.accept();
  client.send(1729);
  EXPECT_EQ(d.recv<int>(), 1729);
}

// The socket file goes with its Listener.
TEST(TestListener, the_socket_file_is_removed) {
  const std::string path = socket_path("file");
  {
    mp::Listener l(mp::UnixAddress{path});
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
  }
  struct stat st {};
  EXPECT_NE(::stat(path.c_str(), &st), 0);
}

TEST(TestListener, bad_addresses_are_usage_errors) {
  EXPECT_THROW(mp::Listener(mp::UnixAddress{std::string(200, 'x')}), mp::UsageError);
  EXPECT_THROW(mp::Listener(mp::TcpAddress{"not-an-ip", 0}), mp::UsageError);
  EXPECT_THROW(mp::Listener(mp::TcpAddress{}, {.backlog = 0}), mp::UsageError);
}

void send_hello(mp::Address address) {
  mp::Connection conn = mp::Client(address);
  conn.send(std::string("hello"));
}

class TestListenerClient : public ::testing::TestWithParam<mp::StartMethod> {};

// _TestListenerClient.test_listener_client, line 3411: the client is
// another process, for every address family.
TEST_P(TestListenerClient, test_listener_client) {
  for (const mp::Address& a : families()) {
    mp::Listener l(a);
    mp::Process p = mp::get_context(GetParam()).Process(send_hello, l.address());
    p.start();
    mp::Connection conn = l.accept();
    EXPECT_EQ(conn.recv<std::string>(), "hello") << mp::to_string(a);
    p.join();
    EXPECT_EQ(p.exitcode(), 0);
  }
}

void send_hello_with_key(mp::Address address, std::string key) {
  mp::Connection conn = mp::Client(address, {.authkey = key});
  conn.send(std::string("hello"));
}

// With an authkey on both sides, the mutual handshake passes.
TEST_P(TestListenerClient, authkey_handshake_across_processes) {
  mp::Listener l(mp::TcpAddress{"127.0.0.1", 0}, {.authkey = "secret"});
  mp::Process p =
      mp::get_context(GetParam()).Process(send_hello_with_key, l.address(), std::string("secret"));
  p.start();
  mp::Connection conn = l.accept();
  EXPECT_EQ(conn.recv<std::string>(), "hello");
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

INSTANTIATE_TEST_SUITE_P(Methods, TestListenerClient, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

// _TestListenerClient.test_issue16955, line 3438: poll sees a message sent
// by the accepted end.
TEST(TestListenerClientMain, test_issue16955) {
  for (const mp::Address& a : families()) {
    mp::Listener l(a);
    mp::Connection c = mp::Client(l.address());
    mp::Connection d = l.accept();
    d.send_bytes(std::string_view("hello"));
    EXPECT_TRUE(c.poll(1s)) << mp::to_string(a);
  }
}

// OtherTest.test_deliver_challenge_auth_failure and
// test_answer_challenge_auth_failure, lines 4645 and 4655: a wrong key fails
// the handshake on both sides with AuthenticationError.
TEST(OtherTest, test_challenge_auth_failure) {
  mp::Listener l(mp::UnixAddress{socket_path("auth")}, {.authkey = "right"});
  std::jthread client([addr = l.address()] {
    EXPECT_THROW(mp::Client(addr, {.authkey = "wrong"}), mp::AuthenticationError);
  });
  EXPECT_THROW(l.accept(), mp::AuthenticationError);
}

// A client without a key, at a Listener with one: refused before anything
// it sends is decoded.
TEST(OtherTest, a_client_without_a_key_is_refused) {
  mp::Listener l(mp::TcpAddress{}, {.authkey = "key"});
  std::jthread client([addr = l.address()] {
    mp::Connection c = mp::Client(addr);
    c.send(std::string(1000, 'x'));  // a payload where the answer should be
    try {
      (void)c.recv_bytes(30s);  // the challenge, then end of stream
      (void)c.recv_bytes(30s);
    } catch (const mp::Error&) {
    }
  });
  EXPECT_THROW(l.accept(), mp::AuthenticationError);
}

// A client that connects and says nothing holds the server for at most the
// handshake deadline.
TEST(OtherTest, a_silent_client_times_out) {
  mp::Listener l(mp::TcpAddress{}, {.authkey = "key", .handshake_timeout = 200ms});
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto* tcp = std::get_if<mp::TcpAddress>(&l.address());
  ASSERT_NE(tcp, nullptr);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(tcp->port);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&in), sizeof in), 0);
  EXPECT_THROW(l.accept(), mp::TimeoutError);
  ::close(s);
}

// accept(timeout) with nobody coming; accept(stop_token) when stopped.
TEST(TestListenerMain, accept_with_timeout_and_stop_token) {
  mp::Listener l;
  EXPECT_FALSE(l.accept(10ms).has_value());
  EXPECT_FALSE(l.accept(-1s).has_value());  // a negative timeout polls
  std::stop_source stop;
  stop.request_stop();
  EXPECT_THROW(l.accept(stop.get_token()), mp::Interrupted);
}

// Descriptors cross only a Unix socket: over TCP, send_handle and shared
// objects are a UsageError, never a message that arrives without them.
TEST(TestListenerMain, descriptors_need_a_unix_socket) {
  mp::Listener l(mp::TcpAddress{});
  mp::Connection c = mp::Client(l.address());
  mp::Connection d = l.accept();
  EXPECT_THROW(c.send_handle(STDIN_FILENO), mp::UsageError);
  mp::Queue<int> q;
  EXPECT_THROW(c.send(q), mp::UsageError);
  c.send(5);  // the connection still works
  EXPECT_EQ(d.recv<int>(), 5);
}

TEST(TestListenerMain, a_client_with_nobody_listening_fails) {
  EXPECT_THROW(mp::Client(mp::UnixAddress{socket_path("nobody")}), mp::SystemError);
}

}  // namespace
