// Internal: forward declarations of the task wire (see detail/wire.hpp), for
// headers that only declare their multiproc_export / multiproc_import pair.
#pragma once

namespace multiproc::detail {
class WireWriter;
class WireReader;
}  // namespace multiproc::detail
