// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// StateStore: the persistent Ethereum state of a serving node (and of `carousel gen`), on a KV.
//
// It keeps, in the KV's columns:
// - kTrieNodes: every node of the account trie and of every storage trie reachable from a root of
//   the window, by hash, each with a reference count;
// - kAccountLeaves / kStorageLeaves: the flat leaf index of the head state, key-ordered, so a range
//   of leaves streams without walking the trie (go-ethereum's flat snapshot);
// - kCode: contract code by hash (never pruned: code is small next to the tries and often shared);
// - kBlocks: each block's encoded StateDiff and the pruning journal of the blocks in the window;
// - kMeta: the "state" record (head block and root, the window of roots, leaf counts).
//
// Blocks. apply_block() takes one block's StateDiff, checks it against the head state through
// state::WorldState (before-values, storage roots, state root) and commits everything it changes
// (trie nodes and their counts, flat leaves, code, the diff, the journal, the pruned nodes, the meta
// record) as ONE atomic KV batch. A diff that does not apply commits nothing. The first block
// applied to an empty store is its genesis (any block number; every later block is head + 1); the
// first block is built with trie::HashBuilder, streaming, and may be huge (a whole state); its diff
// is not kept (the flat index holds the same).
//
// The window. The roots of the last Options::root_window blocks stay servable: every node reachable
// from any of them is in kTrieNodes, and nothing else is. Reference counts make this exact:
// - put_node (a new node of the head state) adds one reference at once;
// - release_node (the block stopped referencing a node) is journaled with the block, and applied
//   only when the block's parent root leaves the window; a node whose count reaches zero is deleted.
// So a node's count is its number of references in the head state plus its journaled releases;
// identical nodes shared by several tries (equal small storage tries) live while any reference does.
//
// On-disk layout (format version 1):
// - kTrieNodes: hash -> LEB128 varint count (>= 1) ++ node RLP. Count and RLP share one value (not a
//   separate key space) because (1) every count change must read the count anyway, and the same read
//   then tells whether the node exists; (2) serving reads one key per node; (3) a count can never be
//   orphaned from its node or the other way round, even in a damaged database; (4) half the keys,
//   so smaller indexes and Bloom filters. The price, rewriting the RLP (at most 532 bytes) when the
//   count of a live node changes, is paid only by shared nodes: most counts go 0 -> 1 -> deleted.
//   An RLP list starts with a byte >= 0xc0 and a one-byte count is < 0x80, so a raw node stored
//   without a count is recognised as malformed.
// - kAccountLeaves: account key -> account RLP; kStorageLeaves: account key ++ slot key -> leaf value
//   (the RLP of the slot's word), as the tries hold them.
// - kBlocks: be64(block) -> encode_state_diff(); be64(block) ++ "j" -> the hashes (32 bytes each) the
//   block released, kept while the block's parent root is in the window.
// - kMeta "state": version, head, leaf counts and the window (state_store_format.hpp documents the bytes);
//   kMeta "import": present only while a genesis too large for one batch is being written.
//
// Crash safety. Every block is one batch, so after a crash (kill -9) the store reopens at the last
// block whose batch was committed. A genesis larger than Options::import_batch_bytes is written in
// several batches, the first of which sets the "import" marker and the last clears it and sets the
// head; a store reopened with the marker still set discards the partial import (the five columns
// above and its two kMeta keys are emptied; other kMeta keys stay) and opens empty, which is the
// last committed state.
//
// Use (a chain written to disk, then served):
//
//   std::unique_ptr<RocksKV> kv;
//   if (Status s = RocksKV::open(dir / "db", kv); !s.ok()) return s;
//   auto store = StateStore::open(*kv);            // empty, or the state found in the database
//   if (!store) return store.error();
//   for (const StateDiff& d : blocks) {            // genesis first (a whole state as one diff)
//       if (Status s = (*store)->apply_block(d); !s.ok()) return s;
//   }
//   (*store)->head();                              // {block, root, accounts, slots}
//   for (LeafIterator it = (*store)->account_leaves(from, to); it.valid(); it.next()) { ... }
//
// Thread safety: const methods may run concurrently with each other (the KV is thread-safe).
// apply_block() and seal_and_apply_block() need exclusive access: callers serialise them against
// every other call (a std::shared_mutex held exclusively, for instance).
//
// Errors: every method returns a Status (or a tl::expected with one); nothing throws but
// std::bad_alloc. Codes:
// - invalid-argument: a diff that does not apply (its message says why), bad options;
// - corruption: the stored state is damaged or foreign (the message names the record or node);
// - not-supported: a state record of another format version;
// - io-error and others: passed on from the KV.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/state/account.hpp>
#include <carousel/state/code_store.hpp>
#include <carousel/state/state_diff.hpp>
#include <carousel/trie/node_store.hpp>

#include "kv.hpp"
#include "status.hpp"

namespace carousel::state {
class WorldState;
}

namespace carousel::store {

// An ordered stream of leaves of the head state's flat index, over one key range (see
// StateStore::account_leaves and storage_leaves). It reads a consistent snapshot taken when it was
// made: blocks applied later are not visible. Like KV's Iterator, it pins that snapshot, so it should
// not live long, and must be destroyed before the KV. Not thread-safe.
class LeafIterator {
  public:
    LeafIterator(LeafIterator&&) noexcept = default;
    LeafIterator& operator=(LeafIterator&&) noexcept = default;
    ~LeafIterator() = default;

    // True while positioned on a leaf of the range.
    [[nodiscard]] bool valid() const noexcept { return it_->valid(); }
    // Requires valid().
    void next() noexcept { it_->next(); }
    // Moves to the first leaf of the range whose key is >= `key`.
    void seek(const Hash& key) noexcept;
    // The leaf's 32-byte trie key (account key, or slot key for storage leaves). Requires valid();
    // the view lives until the iterator moves.
    [[nodiscard]] ByteView key() const noexcept { return it_->key().substr(prefix_); }
    // The leaf's value as the trie holds it (account RLP, or the slot word's RLP). Requires valid().
    [[nodiscard]] ByteView value() const noexcept { return it_->value(); }
    // Check when !valid(): ok at the end of the range, the error if reading failed.
    [[nodiscard]] Status status() const noexcept { return it_->status(); }

  private:
    friend class StateStore;
    LeafIterator(std::unique_ptr<Iterator> it, Bytes prefix) noexcept;

    std::unique_ptr<Iterator> it_;
    Bytes prefix_bytes_;    // the account key for storage leaves, else empty
    std::size_t prefix_{};  // prefix_bytes_.size()
};

class StateStore {
  public:
    struct Options {
        // Number of recent roots kept servable (at least 1). With W, the roots of blocks
        // head - W + 1 .. head are servable; older nodes are pruned.
        uint32_t root_window{128};
        // Sync every block's batch to stable storage (WriteOptions::sync): the block then survives a
        // crash of the machine, not only of the process.
        bool sync{false};
        // Keep the diffs of the last this many blocks (0: keep every diff). Each block deletes the diff
        // that falls out, so lowering it on reopen leaves the older diffs in place.
        uint64_t diff_retention{0};
        // Flat-index probes at open() (0: none): at this many key positions, derived from the head
        // root, the flat index's next leaf must equal the head trie's. Each costs a few node reads.
        uint32_t open_probes{16};
        // A genesis whose writes exceed this is committed in several batches (see the top of the file).
        std::size_t import_batch_bytes{std::size_t{64} << 20};
        // The in-memory state that blocks apply to caches every trie node it touches; it is dropped
        // every this many blocks (0: never) to bound memory on long runs.
        uint64_t cache_reset_blocks{256};
        // Memory for recently written and read trie nodes (with their counts), which saves KV reads
        // on the paths blocks keep touching and in pruning (0: no cache).
        std::size_t node_cache_bytes{std::size_t{128} << 20};
    };

    // The head state.
    struct Head {
        std::optional<uint64_t> block;  // nullopt for an empty store (no block applied yet)
        Hash root{};                    // the state root (the empty trie's root for an empty store)
        uint64_t accounts{0};           // accounts in the state
        uint64_t slots{0};              // non-zero storage slots in the state
        friend bool operator==(const Head&, const Head&) = default;
    };

    struct BlockRoot {
        uint64_t block{0};
        Hash root{};
        friend bool operator==(const BlockRoot&, const BlockRoot&) = default;
    };

    // Opens the state stored in `kv`, or an empty state if `kv` holds none. `kv` must outlive the
    // store; the store does not own it, and nothing else should write the columns listed above
    // (kMeta keys other than "state" and "import" are free for others).
    //
    // Checks, each failing with a status naming what is wrong:
    // - invalid-argument: root_window is 0;
    // - corruption: no "state" record while the store's columns hold data (a foreign database, or
    //   one that lost its meta); a malformed "state" record; the head root or a window root missing
    //   from kTrieNodes; the flat index disagreeing with the head trie at a probe or with the head
    //   block's diff (a cheap check: verify() is the full one);
    // - not-supported: a "state" record of another format version;
    // - errors of the KV.
    // Discards a partial genesis import (see the top of the file).
    static tl::expected<std::unique_ptr<StateStore>, Status> open(KV& kv, const Options& options);
    static tl::expected<std::unique_ptr<StateStore>, Status> open(KV& kv) { return open(kv, Options{}); }

    ~StateStore();
    StateStore(const StateStore&) = delete;
    StateStore& operator=(const StateStore&) = delete;

    // ---- writing -----------------------------------------------------------------------------------

    // Applies one block and commits it atomically. Requires: diff.block == head + 1 (any number for
    // the first block), diff.parent_root == the head root, and a diff that applies (validate(), every
    // before-value, storage root and the state root check out; code hashes resolve to stored code or
    // code in the diff). On success the head is (diff.block, diff.root).
    // Errors: invalid-argument for a diff that does not apply (nothing is written and the store is
    // as it was); corruption if the head state lacks a node it needs; KV errors (the write failed:
    // the store is as it was, as far as the KV's atomicity goes).
    Status apply_block(const state::StateDiff& diff);

    // As apply_block(), for a block being produced: fills in diff.parent_root, every changed
    // account's storage_root and diff.root from the state, then commits it. `before` values are
    // still checked. On error `diff` may be partly filled in.
    Status seal_and_apply_block(state::StateDiff& diff);

    // ---- reading the head ----------------------------------------------------------------------------

    [[nodiscard]] Head head() const;
    // The servable window, oldest first (empty for an empty store). The last one is the head.
    [[nodiscard]] std::vector<BlockRoot> roots() const;
    // The root of `block` if it is in the window.
    [[nodiscard]] std::optional<Hash> root_at(uint64_t block) const;

    // The account at the head from the flat index, or nullopt if there is none. Corruption if the
    // stored leaf does not decode.
    [[nodiscard]] tl::expected<std::optional<state::Account>, Status> account(const Hash& account_key) const;
    // The storage leaf value at the head (RLP of the word), empty when the slot is absent.
    [[nodiscard]] tl::expected<Bytes, Status> storage(const Hash& account_key, const Hash& slot_key) const;

    // Account leaves of the head with keys in [from, to) (no `to`: to the last), in key order.
    [[nodiscard]] LeafIterator account_leaves(const Hash& from, const std::optional<Hash>& to = std::nullopt) const;
    // Storage leaves of one account at the head with slot keys in [from, to), in key order.
    [[nodiscard]] LeafIterator storage_leaves(const Hash& account_key, const Hash& from = Hash{},
                                              const std::optional<Hash>& to = std::nullopt) const;

    // ---- reading by hash and by block ----------------------------------------------------------------

    // The RLP of the trie node `hash` (any root of the window), or nullopt.
    [[nodiscard]] tl::expected<std::optional<Bytes>, Status> node(const Hash& hash) const;
    // The node's reference count (0 when absent); for tests and tools.
    [[nodiscard]] tl::expected<uint64_t, Status> node_references(const Hash& hash) const;
    [[nodiscard]] tl::expected<std::optional<Bytes>, Status> code(const Hash& code_hash) const;
    // The diff of `block`, or nullopt if it is not kept (never applied, past Options::diff_retention,
    // or the genesis, whose diff is the whole state the flat index holds).
    [[nodiscard]] tl::expected<std::optional<state::StateDiff>, Status> diff(uint64_t block) const;

    // A read-only NodeStore over the committed trie nodes, for opening a trie::Trie (or a
    // state::WorldState, with code_store()) at any root of the window. find_node and read_node
    // report a KV error or a damaged node record as its Status (get_node, as a missing node).
    // put_node and release_node do nothing: a trie opened on it may be changed in memory, but
    // nothing is written. Valid as long as the store.
    [[nodiscard]] trie::NodeStore& node_store() noexcept;
    // A read-only CodeStore over the committed code; put_code does nothing.
    [[nodiscard]] state::CodeStore& code_store() noexcept;

    // ---- checking ------------------------------------------------------------------------------------

    // The full check, reading everything: the head root rebuilt from the flat index (every storage
    // root rebuilt from its leaves) with trie::HashBuilder equals the head root, no storage leaf lacks
    // its account, the leaf counts match the state record, every code hash resolves and every window
    // root is stored. Corruption naming the first difference. Takes about as long as building the
    // state's root from scratch.
    [[nodiscard]] Status verify() const;

    struct PrivateTag {
        explicit PrivateTag() = default;
    };
    // For open() only.
    StateStore(PrivateTag tag, KV& kv, const Options& options);

  private:
    class NodeCache;
    class NodeAdapter;
    class CodeAdapter;
    class ReadNodes;
    class ReadCode;
    struct Pending;

    Status load();
    Status check_flat_index();
    // Both apply paths; with `seal` (== &diff), fills in the roots instead of checking them.
    Status apply_impl(const state::StateDiff& diff, state::StateDiff* seal);
    Status apply_genesis(const state::StateDiff& diff, state::StateDiff* seal);
    Status commit(const state::StateDiff& diff, bool store_diff, const Head& new_head);
    Status prune_block(uint64_t block, const std::vector<Hash>* in_memory_journal);
    Status wipe();
    void reset_world();

    KV& kv_;
    Options options_;
    Head head_;
    std::deque<BlockRoot> window_;
    std::unique_ptr<Pending> pending_;
    std::unique_ptr<NodeCache> cache_;
    std::unique_ptr<NodeAdapter> node_adapter_;
    std::unique_ptr<CodeAdapter> code_adapter_;
    std::unique_ptr<ReadNodes> read_nodes_;
    std::unique_ptr<ReadCode> read_code_;
    std::unique_ptr<state::WorldState> world_;
    WriteBatch batch_;  // commit()'s, reused
    uint64_t blocks_since_reset_{0};
};

}  // namespace carousel::store
