// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// NodeDatadir: a Merry-Go-Round node's `--datadir`, so that after a restart or a kill -9 it reopens
// what it held instead of starting empty (issue 20; docs/MGR.md, "Persistence").
//
// One RocksDB database (store::RocksKV) in the directory holds:
//  - a node record (Column::kMeta, "mgr/node"): the node's block (the regions it covers, i.e. its id
//    and radius), the gossip region size and the epoch length the stores were written with;
//  - every region's durable EpochStore under the region's key prefix (mgr/epoch_nodes.hpp: nodes in
//    kTrieNodes, records in kMeta, mgr/epoch_records.hpp);
//  - the node's code, by hash in Column::kCode (store::KvCodeStore).
// Two processes never write one datadir: RocksDB's lock file makes the second open fail (io-error),
// as it does for `carousel sync` and `carousel serve`.
//
// What a caller does with it (the network driver): open(); read node_record(); with none, write one
// and give MgrNode new_store()s (then seed or join); with one, give MgrNode open_stores() and code()
// (MgrNode::adopt_stores) and decide from each store's head_number() whether to catch up with GetDiff
// or to refill. A store that does not check out is named (ReopenError) and never handed out.
//
// Not thread-safe (the stores are not); the KV itself is.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/store/kv_node_store.hpp>
#include <carousel/store/rocks_kv.hpp>

#include "epoch_store.hpp"
#include "placement.hpp"

namespace carousel::mgr {

struct NodeRecord {
    Region covered;  // the node's block: region_of(id, radius)
    unsigned region_bits{0};
    uint64_t epoch_length{0};
    bool operator==(const NodeRecord&) const = default;
};

struct DatadirError {
    enum class Kind {
        kDatabase = 1,   // RocksKV failed (open, read or write): `status` says why (a held lock: io-error)
        kBadNodeRecord,  // the node record does not decode (damaged)
        kDamagedStore,   // a region's store did not reopen: `region`, `store_error`
        kBadCode,        // a code blob is not under its hash (damaged)
    };
    Kind kind;
    Status status;
    std::optional<Region> region;
    std::optional<ReopenError> store_error;
    // "<datadir>: <what>", for a log line.
    std::string message;
};

class NodeDatadir {
  public:
    // Opens the database in `dir`, creating it when `dir` does not exist or is empty (RocksKV::open;
    // its errors, a second writer's lock among them, as kDatabase).
    static tl::expected<std::unique_ptr<NodeDatadir>, DatadirError> open(const std::filesystem::path& dir,
                                                                         const store::RocksKV::Options& options = {});

    // The node record; nullopt in a new datadir. Errors: kDatabase, kBadNodeRecord.
    tl::expected<std::optional<NodeRecord>, DatadirError> node_record() const;
    // Writes (replaces) the node record. Errors: kDatabase.
    tl::expected<void, DatadirError> write_node_record(const NodeRecord& record);

    // The regions with a store in the datadir (a head record), in key order: the record's regions,
    // and any left from a larger block before a shrink. Errors: kDatabase.
    tl::expected<std::vector<Region>, DatadirError> regions() const;
    // Reopens the store of every region of the record's block (EpochStore::reopen), in region order;
    // a region that holds nothing gives an empty store. Errors: kDamagedStore (the first region
    // whose store does not check out), kDatabase.
    tl::expected<std::vector<std::unique_ptr<EpochStore>>, DatadirError> open_stores(const NodeRecord& record);
    // A durable store of `region` with nothing in it yet (seed or adopt replaces whatever the
    // datadir held for it).
    std::unique_ptr<EpochStore> new_store(const Region& region, uint64_t epoch_length);
    // Drops everything held for `region` (a region the node no longer covers). Errors: kDatabase.
    tl::expected<void, DatadirError> drop_region(const Region& region);

    // Every code blob held, each checked against its hash. Errors: kBadCode, kDatabase.
    tl::expected<std::vector<Bytes>, DatadirError> code() const;
    // Where the node writes the code it keeps (MgrNode::adopt_stores).
    store::KvCodeStore& code_store() noexcept { return code_store_; }

    store::RocksKV& kv() noexcept { return *kv_; }
    const std::filesystem::path& path() const noexcept { return kv_->path(); }

    // For open() only.
    explicit NodeDatadir(std::unique_ptr<store::RocksKV> kv);

  private:
    DatadirError database_error(const Status& s) const;

    std::unique_ptr<store::RocksKV> kv_;
    store::KvCodeStore code_store_;
};

// The node record's encoding: u8 format (1), 32-byte first key of the block, u16 block bits, u16
// region bits, u64 epoch length (big-endian); anything else is refused (nullopt).
Bytes encode_node_record(const NodeRecord& record);
std::optional<NodeRecord> decode_node_record(ByteView in);

}  // namespace carousel::mgr
