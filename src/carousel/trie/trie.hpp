// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Trie: a mutable Merkle Patricia Trie over raw keys (Yellow Paper, Appendix D).
//
// Keys are used as given: a secure (hashed-key) trie is built by passing keccak256(key). Keys may
// have any length, and one key may be a prefix of another (branches then carry values), as in
// ethereum/tests' plain TrieTests. An empty value deletes the key.
//
// Nodes live in memory. A trie opened at a root, or grown from one, reads the nodes it has not
// loaded yet from its NodeStore on first touch; root() writes every new node of 32 bytes or more
// to the store (put_node), so the store can later reopen the trie at that root, and tells it which
// stored nodes the trie stopped referencing (release_node), so a store that counts references can
// prune. root() re-encodes and re-hashes only the nodes changed since the previous call. A node
// loaded by hash is not re-hashed: the store is trusted to return the RLP that hashes to the
// requested key (as go-ethereum trusts its database); peer data is verified before it is stored.
//
// Not thread-safe (but exchange_all and root(ForkJoin&) may split their own work over two threads).

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/core/fork_join.hpp>

#include "node_store.hpp"

namespace carousel::trie {

// keccak256(rlp("")): the root of the empty trie.
extern const Hash kEmptyRoot;

enum class [[nodiscard]] TrieError{
    kMissingNode = 1,  // a node referenced by hash is not in the NodeStore
    kBadNode,          // a stored node does not decode
    kStoreError,       // the NodeStore failed to read a node (an IO error, a damaged record)
};
std::string_view to_string(TrieError e) noexcept;

class Trie {
  public:
    // An empty trie, or the trie with root `root` whose nodes are in `store`. `store` may be null for
    // a purely in-memory trie (then `root` must be kEmptyRoot). The store must outlive the trie.
    explicit Trie(NodeStore* store = nullptr, const Hash& root = kEmptyRoot);
    ~Trie();
    Trie(Trie&&) noexcept;
    Trie& operator=(Trie&&) noexcept;

    // The value stored under `key`, or nullopt.
    tl::expected<std::optional<Bytes>, TrieError> get(ByteView key);
    // Sets `key` to `value`; an empty value deletes the key.
    tl::expected<void, TrieError> put(ByteView key, ByteView value);
    tl::expected<void, TrieError> erase(ByteView key);
    // As put (an empty value deletes the key), and sets `old` to the value `key` held before (empty if
    // it was absent): a checked update walks the trie once instead of a get and a put. On an error
    // `old` is unspecified.
    tl::expected<void, TrieError> exchange(ByteView key, ByteView value, Bytes& old);

    // The root hash. Writes the nodes that changed to the store (if any).
    Hash root();

    // The roots of several tries: out[i] = tries[i]->root(), with the same writes to and releases
    // from their stores, but the changed nodes of all of them are hashed together, level by level
    // from the leaves up, several messages at a time (keccak256_batch): many small changes spread
    // over many tries (one block's storage writes) cost about what a few large ones would.
    // `out.size() == tries.size()` is required; the tries must be distinct and may share a store.
    // The order in which nodes reach put_node differs from one root() call per trie.
    static void roots(std::span<Trie* const> tries, std::span<Hash> out);
    // As roots(tries, out), but every node write and release goes to `writes` instead of the tries'
    // stores: with a LockedNodeStore, two threads can hash disjoint tries into one store at once.
    static void roots(std::span<Trie* const> tries, std::span<Hash> out, NodeStore& writes);

    // As root(), but when the root is a branch and `fork` has a helper thread, the dirty nodes below
    // the root's slots 8..15 are hashed on the helper while those below 0..7 are hashed on the caller
    // (both write to the store, one batch at a time). Same root, same nodes stored.
    Hash root(ForkJoin& fork);

    // One change of exchange_all().
    struct Update {
        ByteView key;
        ByteView value;  // empty: deletes the key
        Bytes* old;      // receives the value the key held (empty if it was absent)
    };
    struct UpdateFailure {
        std::size_t index;  // the first update (in span order) that failed
        TrieError error;
    };
    // exchange(u.key, u.value, *u.old) for every update; the keys must be distinct. When the root is
    // a branch, `fork` has a helper thread, the store allows concurrent_reads() and there are enough
    // updates to pay for it, the updates below the root's slots 8..15 are made on the helper while
    // those below 0..7 are made on the caller (the two touch disjoint subtrees). Either way the paths
    // are prefetched a group of keys at a time, as prefetch() does. On an error, the updates before
    // the failed one are made and some after it may be.
    tl::expected<void, UpdateFailure> exchange_all(std::span<const Update> updates, ForkJoin& fork);

    // A key of one trie, for prefetch().
    struct KeyOf {
        Trie* trie;
        ByteView key;
    };

    // Loads from their stores the nodes on the paths to `keys` (of one or several tries) and brings
    // them into the CPU cache, so that gets and puts of these keys afterwards need not wait on memory.
    // The paths are walked together, one dependent memory access per path per round, so that the
    // cache misses of different paths overlap instead of following one another (a trie of millions
    // of nodes does not fit in any cache: one walk alone waits on memory at every node). A hint:
    // changes no key, value or root, and writes nothing to the stores; a node that is missing from its
    // store or does not decode is left unloaded (the get or put that needs it reports the error).
    // Counts the nodes it loads in loaded_nodes(), as get and put do.
    static void prefetch(std::span<const KeyOf> keys);

    // Proof of `key` (inclusion or exclusion): the RLP of every hash-referenced node on the path
    // from the root towards `key`, root first, as eth_getProof returns. Calls root() first.
    tl::expected<std::vector<Bytes>, TrieError> prove(ByteView key);
    // A multiproof: the nodes on the paths to all `keys`, each node once, in the order first met.
    // A range proof (verify_range_proof) is the multiproof of the origin and the last key.
    tl::expected<std::vector<Bytes>, TrieError> prove(std::span<const Bytes> keys);

    // Visits every (key, value) in increasing key order.
    tl::expected<void, TrieError> for_each(const std::function<void(ByteView key, ByteView value)>& visit);

    // Visits the (key, value) pairs with key >= `from`, in increasing key order, until `visit`
    // returns false. Loads only the nodes on the way.
    tl::expected<void, TrieError> for_each_from(ByteView from,
                                                const std::function<bool(ByteView key, ByteView value)>& visit);

    // The smallest stored key strictly greater than `key` / the greatest strictly smaller one.
    tl::expected<std::optional<Bytes>, TrieError> next_key(ByteView key);
    tl::expected<std::optional<Bytes>, TrieError> prev_key(ByteView key);

    // How many nodes the trie has loaded from its store so far: a bound on the nodes it holds in
    // memory beyond those it created (a caller keeping tries open can close the ones that grew).
    std::size_t loaded_nodes() const noexcept { return loaded_; }

    struct TrieNode;

  private:
    // roots(), writing to `writes` if it is not null, else to each trie's store.
    static void roots_to(std::span<Trie* const> tries, std::span<Hash> out, NodeStore* writes);
    // Tells `to` (if not null) of the stored nodes replaced since the last call, and forgets them.
    void release_replaced(NodeStore* to);

    NodeStore* store_;
    std::unique_ptr<TrieNode> root_;
    std::vector<Hash> released_;  // stored nodes replaced since the last root()
    std::size_t loaded_{0};
};

}  // namespace carousel::trie
