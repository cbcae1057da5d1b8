// The authkey handshake run over a fresh Connection (handshake.hpp says what
// crosses). Both throw AuthenticationError when the peer fails it or speaks
// something else, TimeoutError when `deadline` passes first. While it runs,
// the Connection refuses frames over handshake::kMaxMessage bytes.
#pragma once

#include <string_view>

#include "multiproc/connection.hpp"
#include "sys/deadline.hpp"

namespace multiproc::detail {

// The Listener's side: challenge the client, then answer its challenge.
void authenticate_as_server(Connection& c, std::string_view key, const sys::Deadline& deadline);
// The Client's side: answer the server's challenge, then challenge it.
void authenticate_as_client(Connection& c, std::string_view key, const sys::Deadline& deadline);

}  // namespace multiproc::detail
