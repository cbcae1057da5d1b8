// A pipe for tests: a child reports what it saw, the test reads and asserts.
// Passing a TestPipe as a Process argument keeps its write end open in the
// child (through multiproc_descriptors), as library channels will be.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace multiproc::testing {

class TestPipe {
 public:
  TestPipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    read_fd_ = fds[0];
    write_fd_ = fds[1];
  }
  ~TestPipe() {
    close_read();
    close_write();
  }
  TestPipe(const TestPipe&) = delete;
  TestPipe& operator=(const TestPipe&) = delete;

  int read_fd() const { return read_fd_; }
  int write_fd() const { return write_fd_; }
  void multiproc_descriptors(std::vector<int>& out) const { out.push_back(write_fd_); }

  void write(const std::string& s) const {
    size_t done = 0;
    while (done < s.size()) {
      ssize_t n = ::write(write_fd_, s.data() + done, s.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;
      done += static_cast<size_t>(n);
    }
  }
  // Reads until every writer closed its end.
  std::string read_all() {
    close_write();
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(read_fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads up to `max` bytes that are available now, blocking for the first.
  std::string read_some(size_t max = 4096) {
    std::string out(max, '\0');
    ssize_t n;
    do {
      n = ::read(read_fd_, out.data(), max);
    } while (n < 0 && errno == EINTR);
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
  }
  void close_write() {
    if (write_fd_ >= 0) ::close(write_fd_);
    write_fd_ = -1;
  }
  void close_read() {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
  }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
};

}  // namespace multiproc::testing
