// Ported from CPython's Lib/test/_test_multiprocessing.py, classes
// _TestConnection (descriptor transfer) and _TestPicklingConnections
// (line numbers: CPython 3.11.2), under every start method: a descriptor, a
// Connection and a Queue sent through a Connection to another process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "helpers/start_methods.hpp"
#include "multiproc/context.hpp"
#include "multiproc/error.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

class TestConnection : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  mp::Context ctx() const { return mp::get_context(GetParam()); }
};

// The child writes `data` to the descriptor it receives, and reports
// whether that descriptor is close-on-exec.
void write_fd(mp::Connection conn, std::string data) {
  int fd = conn.recv_handle();
  bool cloexec = (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<long>(data.size());
  ::close(fd);
  conn.send(ok && cloexec);
}

std::string read_file(const std::string& path) {
  char buf[64] = {};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  long n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::string temp_path() {
  return "/tmp/multiproc-fd-transfer-" + std::to_string(::getpid());
}

// _TestConnection.test_fd_transfer, line 3281.
TEST_P(TestConnection, test_fd_transfer) {
  auto [conn, child_conn] = mp::Pipe();
  mp::Process p = ctx().Process(write_fd, std::move(child_conn), std::string("foo"));
  p.start();
  const std::string path = temp_path();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  conn.send_handle(fd);
  ::close(fd);
  EXPECT_TRUE(conn.recv<bool>());
  p.join();
  EXPECT_EQ(read_file(path), "foo");
  ::unlink(path.c_str());
}

// _TestConnection.test_large_fd_transfer, line 3306: a descriptor above 256.
TEST_P(TestConnection, test_large_fd_transfer) {
  auto [conn, child_conn] = mp::Pipe();
  mp::Process p = ctx().Process(write_fd, std::move(child_conn), std::string("bar"));
  p.start();
  const std::string path = temp_path();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 300);
  ::close(fd);
  ASSERT_GE(high, 300);
  conn.send_handle(high);
  ::close(high);
  EXPECT_TRUE(conn.recv<bool>());
  p.join();
  EXPECT_EQ(read_file(path), "bar");
  ::unlink(path.c_str());
}

// Receives a Connection through `conn` and answers on it.
void echo_on_received_connection(mp::Connection conn) {
  auto other = conn.recv<mp::Connection>();
  other.send(other.recv<int>() * 2);
}

// _TestPicklingConnections.test_pickling, line 3576: a Connection sent
// through a Connection works in the receiving process.
TEST_P(TestConnection, test_pickling) {
  auto [conn, child_conn] = mp::Pipe();
  mp::Process p = ctx().Process(echo_on_received_connection, std::move(child_conn));
  p.start();
  auto [mine, theirs] = mp::Pipe();
  conn.send(theirs);
  theirs.close();
  mine.send(21);
  EXPECT_EQ(mine.recv<int>(), 42);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

void put_on_received_queue(mp::Connection conn) {
  auto q = conn.recv<mp::Queue<std::string>>();
  q.put("from the child");
  conn.send(true);
}

// A Queue sent through a Connection is the same queue in the other process.
TEST_P(TestConnection, test_queue_through_connection) {
  auto [conn, child_conn] = mp::Pipe();
  mp::Process p = ctx().Process(put_on_received_queue, std::move(child_conn));
  p.start();
  mp::Queue<std::string> q;
  conn.send(q);
  EXPECT_TRUE(conn.recv<bool>());
  EXPECT_EQ(q.get(60s), "from the child");
  p.join();
}

INSTANTIATE_TEST_SUITE_P(Methods, TestConnection, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

// A handle frame where a value is expected, and the reverse, are errors,
// never a leaked or misattributed descriptor.
TEST(TestConnectionErrors, a_handle_is_not_a_value) {
  auto [a, b] = mp::Pipe();
  a.send_handle(STDIN_FILENO);
  EXPECT_THROW(b.recv<int>(), mp::DecodeError);
  a.send(7);
  EXPECT_THROW(b.recv_handle(), mp::ProtocolError);
  EXPECT_THROW(a.send_handle(-1), mp::UsageError);
}

}  // namespace
