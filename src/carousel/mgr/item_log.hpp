// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// ItemLog: the gossip items (RegionItem encodings) a node applied to its stores, kept per region for
// a window of recent blocks, to answer GetItems (proto/mgr_messages.hpp): a neighbour that restarted
// catches up its stores, storage included, by applying the blocks it missed (MgrNode::resume).
//
// Contract: a region's log holds consecutive blocks, the last one the block its store applied last.
// An item that does not follow the region's last one (the store moved by a fill or a diff between
// them) starts the region's log again, so an answer never skips a block. Only items a store applied
// (verified against a trusted header) are recorded; the receiver verifies them again all the same.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include <carousel/core/bytes.hpp>

namespace carousel::mgr {

class ItemLog {
  public:
    // Keeps each region's items of its last `keep_blocks` blocks (0: none), at most `max_region_bytes`
    // bytes of them per region (older ones go first).
    ItemLog(uint64_t keep_blocks, uint64_t max_region_bytes) noexcept
        : keep_blocks_{keep_blocks}, max_region_bytes_{max_region_bytes} {}

    // `encoded`, the item `region_first` applied at `block`.
    void record(const Hash& region_first, uint64_t block, Bytes encoded);
    // The items of `region_first` of blocks from_block..to_block, oldest first, as many as fit in
    // `max_size` bytes (at least one). `head` is the block the region's store is at: from_block
    // after it gets none (nothing newer); nullopt when the log does not hold from_block (before its
    // window, or a block the store reached by other means than an item).
    std::optional<std::vector<Bytes>> from(const Hash& region_first, uint64_t from_block, uint64_t to_block,
                                           uint64_t head, uint64_t max_size) const;
    // Drops a region's log (its store went).
    void forget(const Hash& region_first);
    // Bytes of items held, over every region.
    uint64_t bytes() const noexcept { return bytes_; }

  private:
    struct Log {
        uint64_t first_block{0};  // the block of items.front()
        std::deque<Bytes> items;
        uint64_t bytes{0};
    };
    void drop_front(Log& log);

    uint64_t keep_blocks_;
    uint64_t max_region_bytes_;
    std::map<Hash, Log> regions_;
    uint64_t bytes_{0};
};

}  // namespace carousel::mgr
