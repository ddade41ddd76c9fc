// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// RocksKV: the KV interface on RocksDB, for anything that must survive a restart.
//
// One RocksDB database per directory; each Column is a column family named to_string(column)
// (kv.hpp says why). RocksDB's own "default" column family is reserved for the format marker: the
// key "carousel.format" holding the magic "carousel-kv" and a big-endian u32 format version,
// written (synced) when the database is created and checked on every open.
//
// Durability. Every write goes through RocksDB's write-ahead log before it returns, so a write that
// returned survives a crash of the process (kill -9); with WriteOptions::sync it also survives a
// crash of the machine. put_sorted bypasses the log: its table file is synced before it is ingested. After a crash,
// RocksDB recovers to the last complete write (point-in-time recovery): a batch is there entirely or not at all.
//
// Tuning, for a write-heavy workload of random hash keys (trie nodes, code) and range-scanned
// leaves, on a machine with few cores:
// - Bloom filters, 10 bits per key (about 1% false positives) on every column: sync asks "do I have
//   this node?" for many absent hashes, and a miss then costs no data-block read. Filter and index
//   blocks live in the block cache (memory stays bounded by it), with level-0 ones pinned.
// - LZ4 on all levels but the last, ZSTD on the last, which holds about 90% of the data. Hash keys
//   and trie nodes full of hashes barely compress; leaves and code do somewhat; LZ4 costs little
//   CPU on the write path. Falls back to Snappy or none if this RocksDB lacks a codec.
// - 16 KiB data blocks for the leaf columns (read as ranges: fewer blocks, better compression),
//   4 KiB for the point-read columns; level_compaction_dynamic_level_bytes for lower space
//   amplification; one shared LRU block cache; memtables capped in total by write_buffer_bytes.
// - paranoid_checks: corruption found by a background read or on open stops the database with a
//   Corruption status instead of going on. Reads verify block checksums.

#include <cstdint>
#include <filesystem>
#include <memory>

#include "kv.hpp"

namespace carousel::store {

class RocksKV final : public KV {
  public:
    // The on-disk format this build reads and writes.
    static constexpr uint32_t kFormatVersion = 1;

    struct Options {
        // Create the database if the directory does not exist or is empty.
        bool create_if_missing{true};
        // Size of the LRU cache shared by all columns for data, index and filter blocks.
        std::size_t block_cache_bytes{std::size_t{256} << 20};
        // Memtable size of the big columns (trie nodes, leaves); the small ones get a quarter.
        // All memtables together are capped at four times this.
        std::size_t write_buffer_bytes{std::size_t{64} << 20};
        // Background flush and compaction threads.
        int background_jobs{2};
        int bloom_bits_per_key{10};
        // Level-0 table files of the trie-node column that start a compaction into the level below.
        // A syncing client, which ingests its nodes as table files of a few MB (put_sorted), sets 32:
        // random hash keys overlap all of the level below, so each merge rewrites it, and merging
        // every 32 files rather than every 4 rewrites it an eighth as often (1M accounts, full mode:
        // client CPU 71-76 s at 16, 53-58 s at 32). Lookups check up to that many files' filters.
        int trie_node_level0_files{4};
        // Open an existing database for reading only (writes fail with not-supported): several
        // processes may then open the same database, as several `carousel serve` do. A carousel
        // database older than some of this build's columns opens with those columns empty.
        bool read_only{false};
    };

    // Opens the database in `dir`, creating it (and `dir`) if `options.create_if_missing` and `dir`
    // does not exist or is an empty directory. On success stores the database in `kv` and returns
    // ok; on failure leaves `kv` null and returns a status whose message names the path and what is
    // wrong:
    // - not-found: no database and not creating one;
    // - invalid-argument: `dir` is a file, or a non-empty directory that is not a RocksDB database,
    //   or a RocksDB database that is not carousel's (no or foreign format marker, unknown columns);
    // - not-supported: a carousel database of another format version;
    // - corruption: a damaged database (CURRENT, MANIFEST or table files garbled or missing,
    //   checksum mismatches);
    // - io-error: the operating system failed, or another process holds the database's lock.
    // A foreign database is not modified.
    static Status open(const std::filesystem::path& dir, const Options& options, std::unique_ptr<RocksKV>& kv) noexcept;
    static Status open(const std::filesystem::path& dir, std::unique_ptr<RocksKV>& kv) noexcept {
        return open(dir, Options{}, kv);
    }

    // Closes the database. Writes that returned are durable as WriteOptions describes.
    ~RocksKV() override;

    // Errors besides not-found: corruption (a block failed its checksum), io-error.
    Status get(Column column, ByteView key, Bytes& value) const noexcept override;
    Status write(const WriteBatch& batch, WriteOptions options = {}) noexcept override;
    // A table file, synced, then ingested: no memtable and no write-ahead log. The file goes to the
    // lowest level its keys do not overlap (random hash keys: level 0, merged down by compaction).
    // Not-supported when read-only.
    Status put_sorted(Column column, std::span<const ByteView> keys,
                      std::span<const ByteView> values) noexcept override;
    [[nodiscard]] std::unique_ptr<Iterator> new_iterator(Column column, KeyRange range = {}) const noexcept override;

    // Writes all memtables to table files and waits for it.
    Status flush() noexcept;
    // Compacts every column fully and waits for it.
    Status compact() noexcept;
    // Reads every block of every table file and checks its checksum: corruption if one fails.
    Status verify_checksums() noexcept;
    // Total bytes of the live table files of all columns (memtables and the log not included).
    [[nodiscard]] uint64_t sst_bytes() const noexcept;

    [[nodiscard]] const std::filesystem::path& path() const noexcept;

  private:
    struct Impl;
    struct PrivateTag {
        explicit PrivateTag() = default;
    };

  public:
    // For open() only (PrivateTag cannot be named elsewhere).
    RocksKV(PrivateTag tag, std::unique_ptr<Impl> impl) noexcept;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace carousel::store
