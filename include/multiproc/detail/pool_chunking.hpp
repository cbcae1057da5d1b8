// Internal: how a Pool's input becomes chunks of encoded items (a chunk is
// one task): the chunk builder, Python's automatic chunksize, map's
// encode-everything-once, and imap's feed, which reads its input only as
// results are consumed.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "multiproc/detail/pool_core.hpp"
#include "multiproc/detail/pool_task.hpp"
#include "multiproc/detail/wire.hpp"

namespace multiproc::detail {

// How one item is encoded: map's item is the one argument, starmap's a
// tuple of arguments.
template <class Item>
inline constexpr auto encode_item = [](WireWriter& w, const Item& item) { put_item(w, item); };
template <class Tuple>
inline constexpr auto encode_tuple = [](WireWriter& w, const Tuple& t) {
  std::apply([&w](const auto&... a) { put_item(w, a...); }, t);
};

// Encodes items of a range into chunks of `chunksize`; `first_item` is the
// index in the input of the first item added (each chunk records its own,
// for errors that name their item).
template <class Encode>
class ChunkBuilder {
 public:
  ChunkBuilder(std::size_t chunksize, Encode encode, std::size_t first_item = 0)
      : chunksize_(chunksize), encode_(encode), next_item_(first_item) {}
  template <class Item>
  void add(const Item& item) {
    encode_(writer_, item);
    // One allocation per chunk, sized after its first item.
    if (count_ == 0 && chunksize_ > 1) writer_.reserve(writer_.data().size() * chunksize_ + 64);
    if (++count_ == chunksize_) flush();
  }
  void flush() {
    if (count_ == 0) return;
    chunks.push_back({std::move(writer_.data()), static_cast<std::uint32_t>(count_), next_item_});
    next_item_ += count_;
    writer_ = WireWriter{};
    count_ = 0;
  }
  std::vector<PoolCore::Chunk> chunks;

 private:
  std::size_t chunksize_;
  Encode encode_;
  std::size_t next_item_;
  WireWriter writer_;
  std::size_t count_ = 0;
};

// Python's automatic chunksize for map: about four chunks per worker.
inline std::size_t auto_chunksize(std::size_t items, std::size_t processes) {
  if (items == 0) return 1;
  std::size_t per = items / (processes * 4);
  if (items % (processes * 4) != 0) ++per;
  return per == 0 ? 1 : per;
}

// Every item of a range, encoded once, in chunks.
struct EncodedItems {
  std::vector<PoolCore::Chunk> chunks;
  std::vector<std::size_t> offsets;  // each chunk's first item
  std::size_t total = 0;
};

// Encodes every item of `items` into chunks of `chunksize` (0: automatic,
// for `processes` workers; an unsized range is counted first).
template <class Range, class Encode>
EncodedItems encode_items(Range& items, std::size_t chunksize, std::size_t processes,
                          Encode encode) {
  EncodedItems out;
  if constexpr (std::ranges::sized_range<Range>) {
    if (chunksize == 0) {
      chunksize = auto_chunksize(static_cast<std::size_t>(std::ranges::size(items)), processes);
    }
  }
  if (chunksize != 0) {
    ChunkBuilder builder(chunksize, encode);
    for (auto&& item : items) {
      builder.add(item);
      ++out.total;
    }
    builder.flush();
    out.chunks = std::move(builder.chunks);
  } else {
    // Not sized: count first (encoding each item once), then cut chunks.
    ChunkBuilder one(1, encode);
    for (auto&& item : items) one.add(item);
    out.total = one.chunks.size();
    chunksize = auto_chunksize(out.total, processes);
    for (std::size_t i = 0; i < one.chunks.size(); i += chunksize) {
      PoolCore::Chunk c;
      c.first_item = i;
      for (std::size_t j = i; j < std::min(i + chunksize, one.chunks.size()); ++j) {
        c.payload += one.chunks[j].payload;
        ++c.count;
      }
      out.chunks.push_back(std::move(c));
    }
  }
  std::size_t at = 0;
  for (const auto& c : out.chunks) {
    out.offsets.push_back(at);
    at += c.count;
  }
  return out;
}

// imap's input: the range (or a pointer to it) and where reading it stopped.
template <class Stored>
class ImapInput {
  using RangeType = std::remove_pointer_t<Stored>;
  using Iterator = decltype(std::begin(std::declval<RangeType&>()));

 public:
  template <class R>
  explicit ImapInput(R&& range) : stored_(store(std::forward<R>(range))), it_(std::begin(get())) {}
  bool done() { return !(it_ != std::end(get())); }
  auto take() {
    auto item = *it_;
    ++it_;
    return item;
  }

 private:
  template <class R>
  static Stored store(R&& range) {
    if constexpr (std::is_pointer_v<Stored>) {
      return &range;
    } else {
      return Stored(std::forward<R>(range));
    }
  }
  RangeType& get() {
    if constexpr (std::is_pointer_v<Stored>) {
      return *stored_;
    } else {
      return stored_;
    }
  }

  Stored stored_;
  Iterator it_;
};

// imap's feed: each call encodes up to `batch` chunks of `chunksize` items
// of the input into `out`; false once the input is exhausted (then
// `sink->total` holds the item count). An exception thrown while reading the
// input ends it there: the items read before it still run (the last chunk
// may be short), and `sink->input_error` holds the exception, which the
// iteration throws after their results (Python's imap does the same, less
// the items of the short chunk). A range passed as an lvalue is read where it
// is (keep it alive while iterating, as with a view), an rvalue is moved in.
// (Plain begin/end, not std::views::all: clang 14 cannot compile libstdc++
// 12's views.)
template <class Item, class Range, class Sink>
std::function<bool(std::vector<PoolCore::Chunk>&)> make_imap_feed(Range&& items,
                                                                  std::size_t chunksize,
                                                                  std::size_t batch,
                                                                  std::shared_ptr<Sink> sink) {
  using Stored = std::conditional_t<std::is_lvalue_reference_v<Range>,
                                    std::remove_reference_t<Range>*, std::remove_cvref_t<Range>>;
  auto input = std::make_shared<ImapInput<Stored>>(std::forward<Range>(items));
  auto counted = std::make_shared<std::size_t>(0);
  return [input, counted, chunksize, batch, sink](std::vector<PoolCore::Chunk>& out) {
    ChunkBuilder builder(chunksize, encode_item<Item>, *counted);
    bool exhausted = false;
    for (std::size_t n = 0; n < chunksize * batch; ++n) {
      std::optional<decltype(input->take())> item;
      try {
        if (input->done()) {
          exhausted = true;
          break;
        }
        item.emplace(input->take());
      } catch (...) {
        sink->input_error = std::current_exception();
        exhausted = true;
        break;
      }
      builder.add(*item);
      ++*counted;
    }
    builder.flush();
    out = std::move(builder.chunks);
    if (!exhausted) {
      try {
        exhausted = input->done();
      } catch (...) {
        sink->input_error = std::current_exception();
        exhausted = true;
      }
    }
    if (exhausted) sink->total = *counted;
    return !exhausted;
  };
}

}  // namespace multiproc::detail
