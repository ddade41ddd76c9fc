// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// MemoryKV: the KV interface on one ordered std::map per column, for tests, simulations and
// anything that need not survive a restart. Same semantics as RocksKV (see kv.hpp), including
// atomic batches and snapshot iterators; `WriteOptions::sync` is ignored.
//
// Snapshots are copy-on-write per column: an iterator shares its column's map, and the first
// write to that column while any iterator on it lives copies the column (O(entries)). Writes with
// no live iterator on the column copy nothing. Keep iterators short-lived when writing at the same
// time to a large MemoryKV.

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>

#include "kv.hpp"

namespace carousel::store {

class MemoryKV final : public KV {
  public:
    MemoryKV();

    Status get(Column column, ByteView key, Bytes& value) const noexcept override;
    Status write(const WriteBatch& batch, WriteOptions options = {}) noexcept override;
    [[nodiscard]] std::unique_ptr<Iterator> new_iterator(Column column, KeyRange range = {}) const noexcept override;

    // Number of entries in `column`.
    [[nodiscard]] std::size_t entry_count(Column column) const noexcept;

    using Map = std::map<Bytes, Bytes, std::less<>>;

  private:
    class Applier;

    // The column's map, copied first if an iterator shares it. Requires mutex_ held exclusively.
    Map& writable(Column column);

    mutable std::shared_mutex mutex_;
    std::array<std::shared_ptr<Map>, kNumColumns> columns_;
};

}  // namespace carousel::store
