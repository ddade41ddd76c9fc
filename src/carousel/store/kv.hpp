// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The key-value interface under everything carousel persists (trie nodes, the flat leaf index,
// code, block records), with two implementations: MemoryKV (memory_kv.hpp) and RocksKV
// (rocks_kv.hpp). The contract is leveldb's include/leveldb/db.h, narrowed to what carousel needs:
//
// - Keys and values are arbitrary byte strings (the empty key included), ordered bytewise as
//   unsigned bytes, shorter first on a common prefix (memcmp order, RocksDB's default comparator).
// - Every key lives in one Column. Columns are separate key spaces: the same key in two columns is
//   two entries, and iteration never leaves its column.
// - Errors come back as a Status; nothing here throws. All methods are noexcept: running out of
//   memory terminates the process.
// - A KV is safe to use from several threads at once without external locking. An Iterator and a
//   WriteBatch are not: one thread at a time each.
//
// Why columns and not key-prefix bytes. RocksKV maps each Column to a RocksDB column family, for
// three reasons. (1) The columns want different tuning: trie nodes and code are content-addressed
// (uniformly random keys, point lookups, many misses while syncing), leaves are read in key order
// as ranges; each column family has its own table options. (2) Column families have their own
// memtables and SST files, so the heavy rewrite of random trie-node keys does not drag the leaf
// index through the same compactions, and a column can be compacted, measured or dropped alone.
// (3) Iteration bounds stay exact per column without a prefix extractor. A WriteBatch spanning
// column families is still applied atomically through the one shared write-ahead log, so nothing
// of the batch guarantee is lost. The cost, one memtable per column, is bounded by
// RocksKV::Options::write_buffer_bytes. The set of columns is fixed here, by this enum: adding one
// is a change to this file, and RocksKV creates missing columns when it opens an older database.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include <carousel/core/bytes.hpp>

#include "status.hpp"

namespace carousel::store {

enum class Column : uint8_t {
    kMeta = 0,       // small records: sync progress, settings, the head block
    kTrieNodes,      // trie nodes (account and storage tries) by the Keccak-256 hash of their RLP
    kAccountLeaves,  // flat index of account leaves: keccak(address) -> account RLP
    kStorageLeaves,  // flat index of storage leaves: keccak(address) ++ keccak(slot) -> value RLP
    kCode,           // contract code by its Keccak-256 hash
    kBlocks,         // per-block records by big-endian block number: roots of the servable window
    kPathNodes,      // a server's path-ordered copy of one state's tries: root ++ position -> node RLP
};
inline constexpr std::size_t kNumColumns = 7;
inline constexpr std::array<Column, kNumColumns> kAllColumns{
    Column::kMeta, Column::kTrieNodes, Column::kAccountLeaves, Column::kStorageLeaves,
    Column::kCode, Column::kBlocks,    Column::kPathNodes};

// The column's name: "meta", "trie_nodes", "account_leaves", "storage_leaves", "code", "blocks",
// "path_nodes".
// RocksKV uses it as the column family's name, so it is part of the on-disk format.
std::string_view to_string(Column column) noexcept;

// The smallest key greater than every key that starts with `prefix`: `prefix` with trailing 0xff
// bytes dropped and its last byte incremented. nullopt when there is none (empty or all 0xff).
std::optional<Bytes> prefix_successor(ByteView prefix);

// A half-open key range [lower, upper). An empty `lower` starts at the first key; no `upper` runs
// to the last key.
struct KeyRange {
    Bytes lower;
    std::optional<Bytes> upper;

    // Every key of the column.
    static KeyRange all() { return {}; }
    // Every key that starts with `prefix` (e.g. one account's storage leaves).
    static KeyRange with_prefix(ByteView prefix) { return {Bytes{prefix}, prefix_successor(prefix)}; }

    [[nodiscard]] bool contains(ByteView key) const noexcept { return key >= lower && (!upper || key < *upper); }
};

// A group of writes applied all-or-nothing by KV::write, in the order they were added (a later
// write to the same key wins). Copies its arguments: the caller's buffers may go away at once.
// A batch does not belong to any KV; the same batch may be written to several.
class WriteBatch {
  public:
    // Receives the batch's operations in order (WriteBatch::iterate).
    class Handler {
      public:
        virtual ~Handler() = default;
        virtual void put(Column column, ByteView key, ByteView value) = 0;
        virtual void del(Column column, ByteView key) = 0;
        virtual void del_range(Column column, ByteView begin, ByteView end) = 0;
    };

    void put(Column column, ByteView key, ByteView value);
    // Deletes `key`; deleting a missing key is not an error.
    void del(Column column, ByteView key);
    // Deletes every key in [begin, end) of `column` (e.g. a deleted contract's storage leaves,
    // with KeyRange::with_prefix). Nothing happens when begin >= end.
    void del_range(Column column, ByteView begin, ByteView end);
    // Appends the operations of `other`, after this batch's own.
    void append(const WriteBatch& other);
    void clear() noexcept;

    // Number of operations.
    [[nodiscard]] std::size_t count() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    // Bytes the batch holds: keys, values and a few bytes per operation.
    [[nodiscard]] std::size_t byte_size() const noexcept { return rep_.size(); }

    // Calls `handler` for every operation, in order.
    void iterate(Handler& handler) const;

  private:
    Bytes rep_;  // per operation: [u8 kind][u8 column][varint len][key] then the value or the range end
    std::size_t count_{0};
};

struct WriteOptions {
    // Wait until the write is on stable storage (fsync of the log) before returning. Without it a
    // write that returned survives a crash of the process, but not of the machine. Set it for the
    // batch that commits a block. Ignored by MemoryKV.
    bool sync{false};
};

// Iterates one column in key order within a KeyRange. The iterator sees a consistent snapshot of
// its column taken when it was created: writes made later (by anyone) are not visible to it.
// It must be destroyed before the KV that made it, and should not live long: it pins the data of
// its snapshot (RocksKV: memtables and table files; MemoryKV: the column's map, copied on the
// next write). Positioning methods that find no entry in the range leave it !valid(). key() and
// value() may only be called when valid(); the views they return stay valid until the iterator is
// moved or destroyed.
class Iterator {
  public:
    virtual ~Iterator() = default;

    [[nodiscard]] virtual bool valid() const noexcept = 0;
    // The first entry of the range.
    virtual void seek_to_first() noexcept = 0;
    // The last entry of the range.
    virtual void seek_to_last() noexcept = 0;
    // The first entry with key >= target (targets below the range start at its first entry).
    virtual void seek(ByteView target) noexcept = 0;
    // The last entry with key <= target (targets above the range start at its last entry).
    virtual void seek_for_prev(ByteView target) noexcept = 0;
    // Requires valid().
    virtual void next() noexcept = 0;
    // Requires valid().
    virtual void prev() noexcept = 0;
    [[nodiscard]] virtual ByteView key() const noexcept = 0;
    [[nodiscard]] virtual ByteView value() const noexcept = 0;
    // Not ok if iteration hit an error (such as a corrupted block); valid() is then false. Check it
    // when the iterator becomes !valid() to tell the end of the range from a failure.
    [[nodiscard]] virtual Status status() const noexcept = 0;
};

// An iterator over no entries whose status() is `status`: a column that does not exist (ok), or a
// read that failed before it could start (the error).
[[nodiscard]] std::unique_ptr<Iterator> new_empty_iterator(Status status = {});

// What KV::put_sorted requires of its arguments: as many values as keys, the keys strictly
// increasing. Invalid-argument naming what is wrong, else ok.
Status check_sorted_puts(std::span<const ByteView> keys, std::span<const ByteView> values);

class KV {
  public:
    KV() = default;
    virtual ~KV() = default;
    KV(const KV&) = delete;
    KV& operator=(const KV&) = delete;

    // Stores the value of `key` in `value` (replacing its contents) and returns ok; returns
    // not-found (no message, no allocation) if the key is absent, leaving `value` unspecified; any
    // other status is an error.
    virtual Status get(Column column, ByteView key, Bytes& value) const noexcept = 0;

    // Applies `batch` atomically: after a crash or an error either all of it is visible or none
    // of it. Concurrent readers see the state before or after the batch, never a part of it.
    virtual Status write(const WriteBatch& batch, WriteOptions options = {}) noexcept = 0;

    // An iterator over `range` of `column`; never null (errors are reported by its status()).
    [[nodiscard]] virtual std::unique_ptr<Iterator> new_iterator(Column column, KeyRange range = {}) const noexcept = 0;

    // Puts keys[i] -> values[i] into `column`, all or none, like a batch of puts; the keys must be
    // strictly increasing (else invalid-argument, nothing written). For bulk loads of keys that need
    // no write-ahead log of their own (a syncing client's trie nodes): RocksKV writes them straight
    // to a table file, synced, and ingests it (no memtable inserts, the bulk of a batch's cost for
    // random keys), so they survive a crash of the machine once it returns. The default, and
    // MemoryKV, write one WriteBatch.
    virtual Status put_sorted(Column column, std::span<const ByteView> keys, std::span<const ByteView> values) noexcept;

    // Single writes: a batch of one operation.
    Status put(Column column, ByteView key, ByteView value, WriteOptions options = {}) noexcept;
    Status del(Column column, ByteView key, WriteOptions options = {}) noexcept;
};

}  // namespace carousel::store
