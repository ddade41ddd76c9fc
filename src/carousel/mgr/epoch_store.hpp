// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// EpochStore: what a Merry-Go-Round node covering one region keeps (docs/MGR.md, "What a node stores
// for an epoch"; seed 000, "Storage").
//
// For a state root R it holds R's *partial tries* for its region r (mgr/partial_trie.hpp): the
// account trie's nodes on the paths from R to every key in r (the stem, then the whole sub-trie
// below), and, for every account a whose storage trie S_a at R is *present* in r — has at least one
// leaf in storage_region(r, a) — the nodes of S_a on the paths to every key of that block. A storage
// trie with no leaf there is not kept at all, neither its nodes nor its root: the store knows only
// the present owners (an "owner" below is one of those). Every node lives once,
// content-addressed, in one map (hash -> RLP); that is why the store is a trie::NodeStore and
// prefix::ChunkServer serves GetChunks (full and leaf mode, any range inside r, any kept root or
// storage root) straight from it.
//
// Three versions are kept: the previous epoch, the latest epoch (a boundary is a block number that
// is a multiple of E), and the head (the latest block applied). Each is a state root and the storage
// roots of the accounts with storage at it. The diff accumulated since the boundary is the head's
// partial tries against the epoch's; diff() answers GetDiff from them.
//
// GetDiff may also start at any intermediate head since the latest epoch (their nodes stay until the
// next boundary's sweep) and, until the block after a boundary, at the head just before it: a client
// following the head then asks one block's changes, not everything since the boundary.
//
// Invariant: every kept version's partial tries resolve completely from the map. Nodes enter only
// through seed(), adopt() and apply(), each of which checks that before it changes anything.
// Between boundaries the map also keeps the nodes of the intermediate heads; at each boundary a mark
// and sweep drops every node reachable from none of the three kept versions.
//
// Storage cost: the region's share of the account trie and of every storage trie present in it,
// with their stems. A storage trie absent from the region costs nothing, so a store shrinks with
// its region (docs/MGR.md, "What a node stores"). What the store cannot check because of it: that an
// account inside the region whose storage is not listed by a joining node's peers is absent (adopt).
//
// Durable mode (nodes in KvEpochNodes over a store::KV): every change (seed, adopt, apply with
// its boundary roll and sweep) writes its nodes and the store's records (mgr/epoch_records.hpp: the
// kept versions, the blocks since the latest epoch that rebuild the head and the intermediate heads)
// in one atomic KV write, so a store killed at any moment reopens (reopen()) at the last change that
// committed, whole. In memory (the default) nothing is written.
//
// Not thread-safe. Sans-IO: no clock, no sockets (a durable store's KV is the I/O under it).

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/store/kv.hpp>
#include <carousel/trie/node_store.hpp>
#include <carousel/trie/path_range.hpp>

#include "epoch_nodes.hpp"
#include "epoch_records.hpp"
#include "owner_set.hpp"
#include "partial_trie.hpp"
#include "placement.hpp"
#include "region_item.hpp"

namespace carousel::mgr {

// A GetDiff answer: the keys of the range whose value at to_root differs from from_root (strictly
// increasing), their values at to_root (empty: deleted), and range_proof(to_root, range). The client
// applies keys/values to its own leaves of the range at from_root and checks the result with
// trie::verify_bounded_range_proof(to_root, range_min_key(range), range_max_key(range), ...).
struct DiffAnswer {
    std::vector<Hash> keys;
    std::vector<Bytes> values;
    std::vector<Bytes> proof;
};

enum class [[nodiscard]] DiffServeError{
    kUnknownRoot = 1,  // a root that is neither a kept state root nor a kept storage root
    kNotHeld,          // the range reaches outside what the store holds
    kBadNode,          // a held node does not decode (cannot happen for nodes that came in checked)
};
std::string_view to_string(DiffServeError e) noexcept;

// Why a durable store could not be reopened. Every error but kReadFailed and kOtherEpochLength means
// the database is damaged: the store is not used.
enum class [[nodiscard]] ReopenError{
    kReadFailed = 1,    // the KV failed a read (an I/O error)
    kNoHeadRecord,      // nodes are held under the region but no head record says what they are
    kBadRecord,         // a record does not decode, or its numbers do not fit what a store writes
    kMissingRecord,     // a record the head record implies is absent
    kOtherEpochLength,  // the store was written with another epoch length than asked for
    kIncomplete,        // a kept version's partial tries do not resolve from the held nodes
    kBadNode,           // a held node does not decode, or is not under the hash of its RLP
    kInconsistent,      // the block records do not rebuild the latest epoch, or an owner has no leaf
};
std::string_view to_string(ReopenError e) noexcept;

// The accounts with a non-empty storage root at one state root, by key, with that root.
using Owners = std::map<Hash, Hash>;

// The owners of the state at `root`, by iterating the whole account trie in `full` (which holds the
// whole state). Errors: kMissingNode, or kBadNode for a leaf that is not an account at a 32-byte key.
tl::expected<Owners, PartialError> owners_of(const trie::NodeStore& full, const Hash& root);

class EpochStore final : public trie::NodeStore {
  public:
    // A store for `region` with boundaries every `epoch_length` (>= 1) blocks. It holds no version
    // until seed() or adopt().
    // Its nodes are held in `nodes` (null: in memory, MemoryEpochNodes; mgr/epoch_nodes.hpp).
    EpochStore(Region region, uint64_t epoch_length, std::unique_ptr<EpochNodes> nodes = nullptr);

    // Reopens the durable store of `region` that an earlier run left in `kv` (which outlives it): its
    // nodes (KvEpochNodes), the kept versions, the intermediate heads kept for GetDiff and the head
    // just before a boundary, as they were after the last change that committed; head_number() says
    // which block that is (a node decides from it whether to catch up with GetDiff or refill). A
    // region with nothing in `kv` gives an empty store (not seeded). Checks the class invariant before
    // handing the store out: every node is under its hash, and every kept version's partial tries
    // (the epochs and the head before a boundary whole, each head since the latest epoch by what its
    // block changed) resolve from the held nodes. Cost: reading the region's nodes once and walking
    // the kept epochs' partial tries. Errors: ReopenError; a store that fails is not returned.
    static tl::expected<std::unique_ptr<EpochStore>, ReopenError> reopen(store::KV& kv, const Region& region,
                                                                         uint64_t epoch_length);

    // Replaces everything with the partial tries at `root` (block `number`), copied from `full`,
    // which holds the whole state (the network's genesis, a bridge, or a test shortcut); `owners`
    // must be owners_of(full, root) (seeding many stores reads them once). The seeded version is
    // head and epoch at once, even when `number` is not a boundary. Errors: the walks' (nothing
    // changed).
    tl::expected<void, PartialError> seed(const trie::NodeStore& full, uint64_t number, const Hash& root,
                                          const Owners& owners);
    // As above, reading the owners from `full` first.
    tl::expected<void, PartialError> seed(const trie::NodeStore& full, uint64_t number, const Hash& root);

    // For a node joining: installs partial tries fetched from peers at `root` (block `number`).
    // `owners` are the accounts whose storage trie is present in the region at `root`, with those
    // roots, strictly increasing by account; checking the roots against `root` (account proofs) is
    // the caller's job, except for accounts inside the region, whose leaves are in the account
    // partial trie: a listed one must agree (kMissingOwner). Every partial trie must resolve
    // completely from the given nodes (kIncomplete otherwise; kBadNode for a node that does not
    // decode) and every listed owner must have a leaf in its block (kNotPresent); nodes that no
    // partial trie uses are dropped. On any error nothing is kept and the store is unchanged. On success the
    // version is head and epoch, replacing whatever the store held.
    tl::expected<void, GossipError> adopt(uint64_t number, const Hash& root, std::vector<Bytes> account_partial_nodes,
                                          std::vector<std::pair<Hash, Hash>> owners,
                                          std::vector<Bytes> storage_partial_nodes);

    // Applies one block's item. Checks, in order: the store is seeded (kNotSeeded); the item is for
    // head + 1 (kWrongBlock) and this region (kWrongRegion); state_root == trusted_root
    // (kRootMismatch); owners increase strictly (kOwnersNotIncreasing) with one node list each
    // (kLengthMismatch); every node decodes and is at least 32 bytes (kBadNode), none twice in one
    // list (kDuplicateNode); owner_proof verifies against trusted_root with verify_multiproof and
    // every owner's value is an account or absent (kBadOwnerProof; absent: empty storage root; with
    // no owners the proof must be empty); the new head partial tries — the account trie at
    // trusted_root, every listed owner's storage trie at its proven root (walked against the root
    // held for it, the empty root when it was not present: the item then carries its whole partial
    // trie), every other storage trie as it was — resolve completely from held nodes and the item's
    // (kIncomplete); every account inside the region whose storage root changed is listed
    // (kMissingOwner); every item node is used (kUnusedNode). Any failure leaves the store
    // unchanged. Of the item's nodes only those of the account trie and of the owners present at
    // the new root are kept; a listed owner with no leaf left in the block stops being one.
    // On success the head moves to the item's block; the walks descend only through changed
    // positions, so the cost is the size of the item, not of the partial tries. When the new head
    // number is a multiple of E it becomes the latest epoch, the latest becomes the previous, and a
    // mark and sweep over the three kept versions drops every other node (cost: the partial tries).
    tl::expected<void, GossipError> apply(const RegionItem& item, const Hash& trusted_root);

    const Region& region() const noexcept { return region_; }
    uint64_t epoch_length() const noexcept { return epoch_length_; }
    bool seeded() const noexcept { return head_.has_value(); }

    // The kept versions. Before seed()/adopt() the numbers are 0 and the roots the empty root.
    uint64_t head_number() const noexcept;
    Hash head_root() const noexcept;
    uint64_t epoch_number() const noexcept;
    Hash epoch_root() const noexcept;
    std::optional<uint64_t> previous_epoch_number() const noexcept;
    std::optional<Hash> previous_epoch_root() const noexcept;
    // Whether `state_root` is one of the kept versions' roots, or one of the kRecentHeads heads just
    // before the head since the latest boundary (a node joining fills at the head it saw, which its
    // neighbours pass meanwhile: the fill's root stays servable until the next boundary, or for
    // kRecentHeads blocks). Their nodes are held anyway until the boundary's sweep; each costs its
    // owners changed since the boundary (OwnerSet's changes). Four were too few: in a testnet with
    // 2 s blocks a fill taking more than 8 s restarted again and again (7 restarts before one held).
    bool keeps(const Hash& state_root) const noexcept;
    static constexpr std::size_t kRecentHeads = 64;

    // The storage root of `account` at a kept `state_root` when its storage trie is present in the
    // region there; kEmptyRoot when it is not (no storage, or none of it here); nullopt when
    // `state_root` is not kept.
    std::optional<Hash> storage_root(const Hash& account, const Hash& state_root) const;
    // The owners present in the region at a kept `state_root`, increasing, with their storage
    // roots: up to `max` of them from the first account not below `from` on; empty when
    // `state_root` is not kept.
    std::vector<std::pair<Hash, Hash>> owners(const Hash& state_root, const Hash& from = Hash{},
                                              std::size_t max = SIZE_MAX) const;
    // Heap bytes of the kept versions' owner sets (a base shared by two versions counted once).
    std::size_t owner_bytes() const noexcept;

    // Nodes held, and the bytes of their RLP (the map's keys and overhead not counted).
    std::size_t node_count() const noexcept { return nodes_->size(); }
    // The first failed write of the nodes' holder (a KV), or ok: check it after a change.
    const Status& store_status() const noexcept { return nodes_->status(); }
    std::size_t byte_size() const noexcept { return bytes_; }

    // GetDiff for a range of positions of one trie: the account trie (from_root, to_root kept state
    // roots, or the roots of the heads since the epoch or just before it, see above; the range inside
    // the region) or a storage trie (storage roots of one account at those; the range inside
    // storage_region(region, account)). Typically from = the epoch's root or the head a follower last
    // verified, to = the head's or the next epoch's. Errors: kUnknownRoot, kNotHeld (the range reaches
    // outside what is held).
    tl::expected<DiffAnswer, DiffServeError> diff(const Hash& from_root, const Hash& to_root,
                                                  const trie::PathRange& range) const;

    // NodeStore, for ChunkServer and the walks: the RLP of a held node (or why it cannot be read).
    trie::NodeRead find_node(const Hash& hash) const override { return nodes_->find(hash); }
    trie::NodeFound view_node(const Hash& hash, Bytes& scratch, ByteView& out) const override {
        return nodes_->view(hash, scratch, out);
    }

  private:
    // Nodes enter only through seed(), adopt() and apply(); a Trie must not write here.
    void put_node(const Hash& hash, ByteView rlp) override;

    struct Version {
        uint64_t number{0};
        Hash root{};
        OwnerSet storage_roots;  // the latest epoch and the head share its base (compacted at boundaries)
    };
    const Version* version_of(const Hash& state_root) const noexcept;
    // Replaces everything with `nodes` (of `bytes` RLP bytes) and `v` as head and epoch (seed, adopt).
    void install(const NodeMap& nodes, std::size_t bytes, Version v);
    // Whether `root` is a kept state root or a kept storage root.
    bool known_root(const Hash& root) const noexcept;
    // Drops every node no kept version (nor the head before the boundary) reaches.
    void collect_garbage();
    // Moves the head to block `number` with the owners' new storage roots in `change` (kEmptyRoot: no
    // longer present), rolling the epochs at a boundary (without the sweep). Returns whether it was one.
    bool advance(uint64_t number, const VersionRecord& change);
    // The block the records rebuild the versions from: the previous epoch while the head before the
    // latest boundary is kept, else the latest epoch. Requires seeded().
    uint64_t replay_base() const noexcept;
    HeadRecord head_record() const;
    // Ends a change: hands the nodes' holder the records to write with it (durable stores only).
    void commit_install();
    void commit_block(uint64_t number, const VersionRecord& change, uint64_t old_base,
                      std::optional<uint64_t> old_previous);
    // Reopening: the versions from the records under `head`, checked against the held nodes.
    tl::expected<void, ReopenError> restore(const store::KV& kv, const HeadRecord& head);
    // Whether the whole of `v`'s partial tries resolves from the held nodes, each owner with a leaf
    // in its block, and the owners inside the region agree with their account leaves.
    tl::expected<void, ReopenError> check_complete(const Version& v) const;
    // Whether the nodes `change` made, from the complete version `from`, are held.
    tl::expected<void, ReopenError> check_block(const Version& from, const VersionRecord& change) const;
    // Adds `root` and every held node reachable from it through hash references to `live`, not
    // descending below a node `live` holds already.
    void mark_reachable(const Hash& root, std::unordered_set<Hash, trie::HashHasher>& live) const;
    void forget_recent();

    Region region_;
    uint64_t epoch_length_;
    std::unique_ptr<EpochNodes> nodes_;
    std::size_t bytes_{0};
    std::optional<Version> head_;
    std::optional<Version> epoch_;
    std::optional<Version> previous_;
    // The head before the latest boundary, kept (and swept around) until the next block.
    std::optional<Version> before_boundary_;
    // The heads just before the head since the latest boundary, oldest first (their owner sets share
    // the epoch's base; their nodes stay until the boundary's sweep).
    std::deque<Version> recent_heads_;
    // The state roots of the heads since the latest epoch, and every storage root they introduced.
    std::unordered_set<Hash, trie::HashHasher> recent_roots_;
    std::unordered_set<Hash, trie::HashHasher> recent_storage_roots_;
};

}  // namespace carousel::mgr
