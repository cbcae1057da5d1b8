#include "ipc/authenticate.hpp"

#include <string>

#include "ipc/handshake.hpp"
#include "multiproc/error.hpp"

namespace multiproc::detail {
namespace {

namespace hs = handshake;

std::chrono::nanoseconds left(const sys::Deadline& d) {
  timespec ts;
  const timespec* r = d.remaining(ts);
  if (r == nullptr) return std::chrono::hours(24);
  return std::chrono::seconds(r->tv_sec) + std::chrono::nanoseconds(r->tv_nsec);
}

// One handshake message; anything but a small frame in time is a failure.
std::string receive(Connection& c, const sys::Deadline& d, const char* who) {
  std::optional<Bytes> m;
  try {
    m = c.recv_bytes(left(d));
  } catch (const TimeoutError&) {
    m.reset();
  } catch (const EOFError&) {
    throw AuthenticationError(std::string(who) + ": the peer closed the connection during the " +
                              "authkey handshake (wrong key, or no key on its side?)");
  } catch (const ProtocolError&) {
    throw AuthenticationError(std::string(who) + ": the peer sent something other than the " +
                              "authkey handshake (no key on its side?)");
  }
  if (!m) {
    throw TimeoutError(std::string(who) + ": the authkey handshake did not finish in time");
  }
  return std::string(m->view());
}

void send(Connection& c, std::string_view m) {
  c.send_bytes(m);
}

// Challenge the peer: it must answer with our key.
void deliver_challenge(Connection& c, std::string_view key, const sys::Deadline& d,
                       const char* who) {
  std::string challenge = hs::make_challenge();
  send(c, challenge);
  std::string answer = receive(c, d, who);
  if (!hs::check_answer(key, hs::signed_part(challenge), answer)) {
    try {
      send(c, hs::failure());
    } catch (const Error&) {
      // The peer may be gone already; the verdict is ours either way.
    }
    throw AuthenticationError(std::string(who) +
                              ": the peer's answer to the challenge is wrong (wrong authkey?)");
  }
  send(c, hs::welcome());
}

// Answer the peer's challenge, and learn whether it accepted the answer.
void answer_challenge(Connection& c, std::string_view key, const sys::Deadline& d,
                      const char* who) {
  std::string challenge = receive(c, d, who);
  std::string_view part;
  try {
    part = hs::signed_part(challenge);
  } catch (const DecodeError& e) {
    throw AuthenticationError(std::string(who) + ": " + e.what());
  }
  send(c, hs::make_answer(key, part));
  bool welcomed = false;
  try {
    welcomed = hs::parse_verdict(receive(c, d, who));
  } catch (const DecodeError& e) {
    throw AuthenticationError(std::string(who) + ": " + e.what());
  }
  if (!welcomed) {
    throw AuthenticationError(std::string(who) +
                              ": the peer rejected our answer to its challenge (wrong authkey?)");
  }
}

// Runs `steps` with small frames only, then lifts the limit again.
template <class Steps>
void with_small_frames(Connection& c, Steps steps) {
  c.set_max_message(hs::kMaxMessage);
  steps();
  c.set_max_message(Connection::kDefaultMaxMessage);
}

}  // namespace

void authenticate_as_server(Connection& c, std::string_view key, const sys::Deadline& deadline) {
  with_small_frames(c, [&] {
    deliver_challenge(c, key, deadline, "Listener::accept");
    answer_challenge(c, key, deadline, "Listener::accept");
  });
}

void authenticate_as_client(Connection& c, std::string_view key, const sys::Deadline& deadline) {
  with_small_frames(c, [&] {
    answer_challenge(c, key, deadline, "Client");
    deliver_challenge(c, key, deadline, "Client");
  });
}

}  // namespace multiproc::detail
