// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// SyncRecord: what a client database (`carousel sync`, store::KvNodeStore) says about itself, in
// column kMeta under the key "sync": the state root the sync is after and whether it is complete
// (every node of that root's trie, every storage trie and all code verified and durable). A server
// serves such a database only once complete; an incomplete one is refused with how to finish it.
//
// Value: [u8 complete (0 or 1)][32-byte root]. Anything else is corruption.

#include <optional>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>

#include "kv.hpp"

namespace carousel::store {

struct SyncRecord {
    Hash root{};
    bool complete{false};
    friend bool operator==(const SyncRecord&, const SyncRecord&) = default;
};

// The record, nullopt if the database has none (not a client database, or one written before
// the record existed), or the error (corruption for a malformed record).
tl::expected<std::optional<SyncRecord>, Status> read_sync_record(const KV& kv);
// Writes the record, synced.
Status write_sync_record(KV& kv, const SyncRecord& record);

}  // namespace carousel::store
