// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// TrieSync: the node acceptor of a trie sync (go-ethereum's trie.Sync design), for one trie (an
// account trie or one storage trie), sans-IO: the verifying half of a full-mode prefix-sync client.
//
// It knows the root hash and accepts a node only when an accepted parent references its hash (the
// root is referenced by the caller). Accepted nodes whose subtrees are not complete yet wait in
// memory (as go-ethereum's trie sync keeps its "membatch"); a node is written to the NodeStore only
// once every node below it is there, so a node in the store always means a complete subtree. That
// lets a sync that moves to a newer root skip every subtree it already holds (healing), and makes
// a store that was cut off mid-sync still consistent.
//
// The frontier is the set of referenced nodes not accepted yet, by position. The sync is complete
// exactly when the frontier is empty and no accepted node waits for a child or a dependency.
//
// A chunk (a sequence of node RLPs, parents before children, as ChunkServer sends them) is verified
// whole before anything of it is accepted: one node that is not referenced by an accepted (or earlier
// in the chunk) node, or that does not decode, rejects the chunk, and nothing of it is kept.

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/core/nibbles.hpp>
#include <carousel/core/status.hpp>

#include "node.hpp"
#include "node_store.hpp"
#include "path_range.hpp"

namespace carousel::trie {

enum class [[nodiscard]] ChunkRejection{
    kUnexpectedNode = 1,  // a node no accepted node references (wrong, stale, or out of order)
    kBadNode,             // a node that does not decode
    kBadLeaf,             // a leaf the owner's check refused (e.g. an account that does not decode)
};
std::string_view to_string(ChunkRejection r) noexcept;

class TrieSync {
  public:
    // Checks every leaf value of a chunk before it is accepted (e.g. that an account decodes);
    // returning false rejects the chunk. A node that hashes right can only fail this if the state
    // itself is malformed, so this guards the client's own decoding, not against the peer.
    using LeafCheck = std::function<bool(ByteView value)>;
    // Called for every leaf of an accepted node with its full key (packed) and value. It may name
    // dependencies in `deps` (for an account: its storage root and code hash, when the client does
    // not hold them yet): the node holding the leaf counts as complete, and is written to the store,
    // only once dependency_complete() was called for each. So a stored account-trie node means its
    // storage tries and code are complete too, and a sync that restarts skips all of it.
    using LeafSink = std::function<void(ByteView key, ByteView value, std::vector<Hash>& deps)>;
    // Called for every reference to a subtree the store holds already (complete, so not fetched:
    // shared with another trie, or finished before a restart); its leaves reach no LeafSink.
    using HeldSink = std::function<void(const Hash& subtree)>;

    // Syncs the trie with root `root` into `store` (which outlives this). Nodes the store already
    // has are complete subtrees and are not fetched again.
    TrieSync(NodeStore& store, const Hash& root, LeafCheck check = {}, LeafSink on_leaf = {}, HeldSink on_held = {});

    const Hash& root() const noexcept { return root_; }
    // Restricts the sync to the partial trie of `range` (trie/path_range.hpp): a node is fetched only
    // when its position intersects the range, and one outside it counts as complete, so complete()
    // then means every node of the partial trie is held, and a node in the store is complete within
    // the range. A store shared by syncs of other ranges of the same trie must not show this sync
    // their nodes (complete for another range is not complete for this one). Call before accept().
    void restrict_to(PathRange range) { range_ = std::move(range); }
    // Every node is held and every dependency complete: the root is in the store.
    bool complete() const noexcept { return frontier_.empty() && waiting_.empty(); }
    // Nothing is left to fetch for this trie itself (dependencies may still be pending).
    bool fetched() const noexcept { return frontier_.empty(); }

    // Positions still to fetch (each with the hash expected there), in position order.
    const std::map<Nibbles, Hash>& frontier() const noexcept { return frontier_; }

    // Verifies and accepts a chunk. Returns the number of nodes accepted (nodes already held are
    // counted as accepted; they may come again from a second server).
    tl::expected<std::size_t, ChunkRejection> accept(std::span<const Bytes> nodes);

    // Verified nodes from another TrieSync of the same store (a sync that moved to a newer root
    // hands over the nodes it accepted but could not store yet): any of them the new trie references
    // is taken from here instead of fetched. Call before accept().
    void adopt(std::unordered_map<Hash, Bytes, HashHasher> nodes);
    // The nodes accepted but not stored yet (their subtrees are incomplete), for adopt().
    std::unordered_map<Hash, Bytes, HashHasher> take_waiting();

    // The RLP of a node accepted (verified) but not stored yet, or null. With the store, this is
    // everything the sync verified: what a partially synced node can serve.
    const Bytes* waiting_node(const Hash& hash) const noexcept {
        auto it = waiting_.find(hash);
        return it == waiting_.end() ? nullptr : &it->second.rlp;
    }

    // A dependency named by the LeafSink is complete.
    void dependency_complete(const Hash& dep);

    // The key space still to fetch: the sum of 16^-depth over the frontier (0 when complete).
    double remaining_fraction() const noexcept;

    // The first failed read of the store, or ok. A node whose read failed counts as not held: it is
    // fetched again (nothing is lost), and the caller, seeing this, should stop and report the store.
    const Status& store_status() const noexcept { return store_status_; }

    // Bytes of the nodes received in chunks and accepted so far (stored or waiting), and their count.
    uint64_t accepted_nodes() const noexcept { return accepted_nodes_; }
    uint64_t accepted_bytes() const noexcept { return accepted_bytes_; }
    // Nodes taken from adopt() instead of fetched.
    uint64_t adopted_nodes() const noexcept { return adopted_nodes_; }

  private:
    // Whether the store holds `hash`, a complete subtree (a failed read: no, noted in store_status_).
    bool held(const Hash& hash);

    std::optional<PathRange> range_;
    Status store_status_;  // restrict_to's; nullopt: the whole trie

    struct Waiting {
        Bytes rlp;
        uint32_t missing{0};  // children not complete yet
    };

    // No chunk node: a node expanded from adopt()'s nodes, outside the chunk being accepted.
    static constexpr uint32_t kNotInChunk = UINT32_MAX;

    // Adds the references below the node `rlp` at `position` to the frontier and reports its leaves;
    // returns how many children are missing.
    uint32_t expand(ByteView rlp, const Nibbles& position, const Hash& self);
    // As expand, for a node decoded already (accept() decodes each node once, to verify it), which
    // is node `in_chunk` of the chunk being accepted (or kNotInChunk): a child that comes later in
    // the same chunk is linked to it there (ChunkLink) instead of going through the frontier.
    uint32_t expand_node(const Node& node, const Nibbles& position, const Hash& self, uint32_t in_chunk);
    // Writes a complete node to the store and tells its waiting parents (in parents_, and its
    // parents in the chunk being accepted).
    void complete_node(const Hash& hash, ByteView rlp);
    // One more child or dependency of the waiting node `hash` is complete: completes the node when
    // it was the last (nothing if the node does not wait).
    void one_less_missing(const Hash& hash);
    // The index in the chunk being accepted of the first fresh node with this hash, or kNotInChunk.
    uint32_t chunk_node(const Hash& hash) const noexcept;

    // While accept() runs: its fresh nodes by hash, and the links from each to the parents in the
    // chunk that reference it. Parents come before children in a chunk, so most of a chunk is one
    // subtree that completes right there; these links stand in for the frontier, wanted_ and
    // parents_ entries that a child from another chunk needs (it costs a few map entries each).
    // A link whose child is still incomplete when accept() ends becomes a parents_ entry.
    struct ChunkLink {
        uint32_t parent;  // index in the chunk
        uint32_t next;    // the child's next link, or kNotInChunk
        Nibbles position;
    };
    // Calls f(link) for each link of chunk node `child`: one per parent in the chunk referencing it.
    template <class F>
    void for_each_chunk_link(uint32_t child, F f) const {
        for (uint32_t l = chunk_first_link_[child]; l != kNotInChunk; l = chunk_links_[l].next) f(chunk_links_[l]);
    }

    std::vector<std::pair<Hash, uint32_t>> chunk_index_;  // sorted: hash, then index
    std::vector<uint32_t> chunk_first_link_;              // per chunk node: its first link, or kNotInChunk
    std::vector<ChunkLink> chunk_links_;
    std::span<const Hash> chunk_hashes_;

    NodeStore& store_;
    Hash root_;
    LeafCheck check_;
    LeafSink on_leaf_;
    HeldSink on_held_;
    std::map<Nibbles, Hash> frontier_;
    std::unordered_map<Hash, std::vector<Nibbles>, HashHasher> wanted_;  // hash -> positions
    std::unordered_map<Hash, std::vector<Hash>, HashHasher> parents_;    // hash -> waiting parents
    std::unordered_map<Hash, Waiting, HashHasher> waiting_;
    std::unordered_map<Hash, std::vector<Hash>, HashHasher> dependents_;  // dependency -> waiting nodes
    std::unordered_map<Hash, Bytes, HashHasher> adopted_;                 // verified, not yet referenced
    uint64_t accepted_nodes_{0};
    uint64_t accepted_bytes_{0};
    uint64_t adopted_nodes_{0};
};

}  // namespace carousel::trie
