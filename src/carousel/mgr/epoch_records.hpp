// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The records a durable EpochStore (mgr/epoch_store.hpp) keeps beside its nodes, in Column::kMeta
// of its KV, under "mgr/region/" ++ region_key_prefix(region) (mgr/epoch_nodes.hpp):
//
//   ... 'h'                  HeadRecord: which versions are kept (written by every change)
//   ... 'e' u64be(number)    VersionRecord of an epoch version: its state root and every owner
//                            present in the region with its storage root (written when the version
//                            becomes an epoch: a seed, an adoption, a boundary)
//   ... 'b' u64be(number)    VersionRecord of one applied block's changes: its state root and the
//                            owners its item listed, each with its new storage root, or
//                            trie::kEmptyRoot when it is not present in the region any more
//
// The head version is the latest epoch's with the blocks after it replayed; the intermediate heads
// kept for GetDiff come from the same replay. Right after a boundary the blocks from the previous
// epoch up to the boundary stay too, so that the head just before the boundary can be rebuilt until
// the next block. The records of one change are written in the same atomic batch as its nodes
// (EpochNodes::commit), so what a crash leaves is one consistent store.
//
// Encodings (fixed layout, integers big-endian; a record of another length or format is refused):
//   HeadRecord:    u8 format (1), u64 epoch_length, u64 head, u64 latest, u8 flags (bit 0: a previous
//                  epoch is kept; bit 1: the head just before the latest boundary is), u64 previous
//   VersionRecord: u8 format (1), 32-byte root, u32 count, count x (32-byte account, 32-byte root),
//                  accounts strictly increasing

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>

#include "placement.hpp"

namespace carousel::mgr {

enum class [[nodiscard]] RecordError{
    kBadFormat = 1,  // another format byte, length or flag than this build writes
    kNotIncreasing,  // a version record's accounts are out of order or repeated
};
std::string_view to_string(RecordError e) noexcept;

struct HeadRecord {
    uint64_t epoch_length{0};
    uint64_t head{0};    // the head's block number
    uint64_t latest{0};  // the latest epoch's block number
    std::optional<uint64_t> previous;
    // The head is a boundary reached by applying a block, and the head before it is kept (until the
    // next block): the block records (previous, latest] are kept with it.
    bool before_boundary{false};
    bool operator==(const HeadRecord&) const = default;
};

struct VersionRecord {
    Hash root{};
    std::vector<std::pair<Hash, Hash>> owners;  // (account, storage root), accounts increasing
    bool operator==(const VersionRecord&) const = default;
};

// Keys, in Column::kMeta.
Bytes region_records_prefix(const Region& region);  // every record of the region starts with it
Bytes head_record_key(const Region& region);
Bytes epoch_record_key(const Region& region, uint64_t number);
Bytes block_record_key(const Region& region, uint64_t number);

Bytes encode_head_record(const HeadRecord& r);
tl::expected<HeadRecord, RecordError> decode_head_record(ByteView in);
Bytes encode_version_record(const VersionRecord& r);
tl::expected<VersionRecord, RecordError> decode_version_record(ByteView in);

}  // namespace carousel::mgr
