// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The wire messages of Merry-Go-Round sync (seed 000, docs/MGR.md) beyond GetChunks/ChunkData, which
// it shares with fast prefix sync.
//
//   Offer     [reqId, [contentId...]]          gossip: "I have these items"
//   Accept    [reqId, [index...]]              the offered items the receiver wants (indexes into the offer)
//   Content   [kind, payload]                  one gossiped item (kind: region item, code or signed header)
//   GetDiff   [reqId, fromRoot, toRoot, from, to]
//   DiffData  [reqId, [code] | [], keys, [value...], [proofNode...]]
//   GetBareStorage [reqId, stateRoot, regionFirst, regionBits, from, accounts, maxSize]
//   BareStorage    [reqId, [code] | [], coveredTo, [[account, large, keys, [value...]]...]]
//   GetItems  [reqId, regionFirst, regionBits, fromBlock, toBlock, maxSize]
//   Items     [reqId, [code] | [], [item...]]
//
// Decisions:
//  - Gossip follows the Portal network's OFFER/ACCEPT: a content id is the Keccak of the item's
//    encoding, so a node accepts only what it has not seen and covers. Content is pushed after an
//    Accept; the payload is opaque here and decoded (with its own caps) by mgr/.
//  - GetDiff names a range of trie positions [from, to] (hex-prefix nibble paths, as GetChunks) of
//    the trie whose roots are fromRoot and toRoot: the account trie, or a storage trie (its roots are
//    the account's storage roots at the two state roots). The answer holds every key of the range
//    whose value differs between the two roots (an empty value: deleted) and the proof of the range
//    at toRoot; the client applies the keys to its own leaves of the range and checks them against
//    toRoot with that proof. A diff is never cut: E blocks of changes to one node's range are small,
//    and a cut diff could not be checked. Errors reuse GetChunks' codes (0x0 a root the node lacks,
//    0x1 a range it does not hold, 0x2 back off, 0x4 invalid).
//  - GetBareStorage is MGR.md's "small storage tries stored bare": for one region (the aligned block
//    regionFirst / regionBits) at a kept state root, the storage leaves of many accounts at once,
//    without proofs. The accounts asked are either every account from `from` on (`accounts`
//    empty), or exactly the listed ones. The answer covers those up to and including `coveredTo`
//    (all of them when it is 0xff…ff); an entry names an account (increasing, none above
//    coveredTo) whose storage trie at stateRoot has leaves in storage_block(region, account) and
//    holds them, or, when it has more than the server's threshold there, `large` and no leaves: the
//    client fetches that part with GetChunks and its proofs. An account covered without an entry
//    has no leaf there. Entries name accounts, not positions in a list both sides share, because a
//    node knows only the storage tries present in its region (mgr/epoch_store.hpp). Bare leaves,
//    and the absence of an entry, are verified when the client holds every part of the trie, by
//    rebuilding its root.
//  - GetItems asks a node covering a region for the gossip items (mgr::RegionItem encodings, opaque
//    here) of that region it applied, blocks fromBlock..toBlock: a restarted node's catch-up (it
//    asks only for blocks whose headers it holds, to apply each at once). The answer holds
//    consecutive blocks from fromBlock, oldest first, up to toBlock or the node's head, as many as
//    fit in maxSize (at least one); none when the node's head is before fromBlock. A node keeps the items of its
//    regions for a window of recent blocks only: fromBlock before it gets 0x1. Each item is
//    verified as gossip is (EpochStore::apply against the trusted header), so the answer needs no
//    proof of its own.

#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/core/nibbles.hpp>

#include "prefix_messages.hpp"

namespace carousel::proto {

inline constexpr std::size_t kMaxOfferItems = 64;
inline constexpr std::size_t kMaxContentSize = kMaxFrameSize - 64;
inline constexpr std::size_t kMaxDiffKeys = 1 << 18;
inline constexpr std::size_t kMaxBareAccounts = 1 << 12;    // accounts named, or covered, in one exchange
inline constexpr std::size_t kMaxBareEntries = 1 << 16;     // entries in one BareStorage
inline constexpr std::size_t kMaxBareLeaves = 1 << 12;      // leaves of one entry
inline constexpr std::size_t kMaxItemsPerAnswer = 1 << 10;  // items in one Items

enum class ContentKind : uint8_t {
    kRegionItem = 0,  // one region's part of a block: mgr::RegionItem
    kCode = 1,        // contract code (RLP list of blobs), placed at keccak(code)
    kHeader = 2,      // a signed header (mgr/signed_header.hpp), at keccak of its encoding
};

struct Offer {
    uint64_t request_id{0};
    std::vector<Hash> content_ids;
    friend bool operator==(const Offer&, const Offer&) = default;
};

struct Accept {
    uint64_t request_id{0};
    std::vector<uint64_t> indexes;  // strictly increasing, each < the offer's size
    friend bool operator==(const Accept&, const Accept&) = default;
};

struct Content {
    ContentKind kind{ContentKind::kRegionItem};
    Bytes payload;
    friend bool operator==(const Content&, const Content&) = default;
};

struct GetDiff {
    uint64_t request_id{0};
    Hash from_root{};
    Hash to_root{};
    Nibbles from;  // positions, as GetChunks ranges: keys from·0… .. to·f…
    Nibbles to;
    friend bool operator==(const GetDiff&, const GetDiff&) = default;
};

struct DiffData {
    uint64_t request_id{0};
    std::optional<ChunkError> error;
    std::vector<Hash> keys;     // strictly increasing
    std::vector<Bytes> values;  // new values; empty: deleted
    std::vector<Bytes> proof;   // range proof at to_root
    friend bool operator==(const DiffData&, const DiffData&) = default;
};

struct GetBareStorage {
    uint64_t request_id{0};
    Hash state_root{};
    Hash region_first{};
    uint64_t region_bits{0};
    Hash from{};                 // the first owner asked, when `accounts` is empty
    std::vector<Hash> accounts;  // strictly increasing; empty: the owners from `from` on
    uint64_t max_size{0};
    friend bool operator==(const GetBareStorage&, const GetBareStorage&) = default;
};

struct BareEntry {
    Hash account{};             // whose storage
    bool large{false};          // more leaves than the server sends bare: none here
    std::vector<Hash> keys;     // strictly increasing storage keys (keccak(slot))
    std::vector<Bytes> values;  // their RLP values, none empty
    friend bool operator==(const BareEntry&, const BareEntry&) = default;
};

struct BareStorage {
    uint64_t request_id{0};
    std::optional<ChunkError> error;
    Hash covered_to{};  // the accounts asked up to this one are covered (an error: zero)
    std::vector<BareEntry> entries;
    friend bool operator==(const BareStorage&, const BareStorage&) = default;
};

struct GetItems {
    uint64_t request_id{0};
    Hash region_first{};
    uint64_t region_bits{0};
    uint64_t from_block{0};
    uint64_t to_block{0};  // inclusive
    uint64_t max_size{0};
    friend bool operator==(const GetItems&, const GetItems&) = default;
};

struct Items {
    uint64_t request_id{0};
    std::optional<ChunkError> error;
    std::vector<Bytes> items;  // encoded region items, consecutive blocks from the asked one; none with an error
    friend bool operator==(const Items&, const Items&) = default;
};

Bytes encode(const Offer& m);
Bytes encode(const Accept& m);
Bytes encode(const Content& m);
Bytes encode(const GetDiff& m);
Bytes encode(const DiffData& m);
Bytes encode(const GetBareStorage& m);
Bytes encode(const BareStorage& m);
Bytes encode(const GetItems& m);
Bytes encode(const Items& m);

WireResult<Offer> decode_offer(ByteView frame);
WireResult<Accept> decode_accept(ByteView frame);
WireResult<Content> decode_content(ByteView frame);
WireResult<GetDiff> decode_get_diff(ByteView frame);
WireResult<DiffData> decode_diff_data(ByteView frame);
WireResult<GetBareStorage> decode_get_bare_storage(ByteView frame);
// Checks the entries' shape: accounts strictly increasing and not above `covered_to`, keys strictly
// increasing with one non-empty value each, a large entry without leaves.
WireResult<BareStorage> decode_bare_storage(ByteView frame);
// Checks region_bits ≤ 256 and from_block ≤ to_block.
WireResult<GetItems> decode_get_items(ByteView frame);
// Checks the item count (kMaxItemsPerAnswer), no empty item, and no item with an error.
WireResult<Items> decode_items(ByteView frame);

}  // namespace carousel::proto
