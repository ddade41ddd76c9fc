// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// StateStore: opening, applying blocks (a genesis, then one block at a time, each committed as one
// batch with its pruning) and reading the head. Its format is in state_store_format.*, its caches
// in state_store_cache.hpp, its overlay and NodeStore views in state_store_overlay.*, and its checks
// (at open, and verify()) in state_store_check.cpp.
#include "state_store.hpp"

#include <string>
#include <unordered_set>
#include <utility>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/state/world_state.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/trie.hpp>

#include "state_store_cache.hpp"
#include "state_store_format.hpp"
#include "state_store_overlay.hpp"

namespace carousel::store {

using namespace state_format;  // the store's own format (state_store_format.hpp)

namespace {

Status diff_error_status(uint64_t block, state::DiffError e) {
    if (e == state::DiffError::kMissingNode) {
        return Status::corruption(
            "block " + std::to_string(block) +
            ": a trie node of the head state is missing from column trie_nodes or does not decode");
    }
    return Status::invalid_argument("block " + std::to_string(block) + " does not apply: " + std::string{to_string(e)});
}

}  // namespace

// ---- LeafIterator ------------------------------------------------------------------------------------

LeafIterator::LeafIterator(std::unique_ptr<Iterator> it, Bytes prefix) noexcept
    : it_{std::move(it)}, prefix_bytes_{std::move(prefix)}, prefix_{prefix_bytes_.size()} {
    it_->seek_to_first();
}

void LeafIterator::seek(const Hash& key) noexcept {
    Bytes target = prefix_bytes_;
    target.append(view(key));
    it_->seek(target);
}

// ---- open ----------------------------------------------------------------------------------------------

StateStore::StateStore(PrivateTag /*tag*/, KV& kv, const Options& options)
    : kv_{kv},
      options_{options},
      head_{std::nullopt, trie::kEmptyRoot, 0, 0},
      pending_{std::make_unique<Pending>()},
      cache_{std::make_unique<NodeCache>(options.node_cache_bytes)},
      node_adapter_{std::make_unique<NodeAdapter>(kv, *pending_, *cache_)},
      code_adapter_{std::make_unique<CodeAdapter>(kv, *pending_)},
      read_nodes_{std::make_unique<ReadNodes>(kv)},
      read_code_{std::make_unique<ReadCode>(kv)} {}

StateStore::~StateStore() = default;

tl::expected<std::unique_ptr<StateStore>, Status> StateStore::open(KV& kv, const Options& options) {
    if (options.root_window == 0) return tl::unexpected{Status::invalid_argument("root_window must be at least 1")};
    auto store = std::make_unique<StateStore>(PrivateTag{}, kv, options);
    if (Status s = store->load(); !s.ok()) return tl::unexpected{std::move(s)};
    return store;
}

void StateStore::reset_world() {
    pending_->clear();
    world_ = std::make_unique<state::WorldState>(*node_adapter_, *code_adapter_, head_.root);
    blocks_since_reset_ = 0;
}

Status StateStore::wipe() {
    cache_->clear();
    WriteBatch batch;
    for (Column c : kOwnColumns) delete_column(batch, c);
    batch.del(Column::kMeta, view(kStateKey));
    batch.del(Column::kMeta, view(kImportKey));
    return kv_.write(batch, WriteOptions{.sync = true});
}

// ---- writing ---------------------------------------------------------------------------------------------

Status StateStore::apply_block(const state::StateDiff& diff) { return apply_impl(diff, nullptr); }

Status StateStore::seal_and_apply_block(state::StateDiff& diff) { return apply_impl(diff, &diff); }

Status StateStore::apply_impl(const state::StateDiff& diff, state::StateDiff* seal) {
    if (!head_.block) return apply_genesis(diff, seal);
    if (diff.block != *head_.block + 1) {
        return Status::invalid_argument("block " + std::to_string(diff.block) + " does not follow the head block " +
                                        std::to_string(*head_.block));
    }
    if (seal == nullptr && diff.parent_root != head_.root) {
        return Status::invalid_argument("block " + std::to_string(diff.block) + " has parent root " +
                                        hex(diff.parent_root) + ", not the head root " + hex(head_.root));
    }
    if (options_.cache_reset_blocks != 0 && blocks_since_reset_ >= options_.cache_reset_blocks) reset_world();

    pending_->clear();
    auto r = seal != nullptr ? world_->seal_and_apply(*seal) : world_->apply(diff);
    if (!r || !pending_->error.ok()) {
        Status s = pending_->error.ok() ? diff_error_status(diff.block, r.error()) : pending_->error;
        reset_world();
        return s;
    }

    Head next = head_;
    next.block = diff.block;
    next.root = *r;
    for (const auto& a : diff.accounts) {
        if (!a.before && a.after) ++next.accounts;
        if (a.before && !a.after) --next.accounts;
    }
    for (const auto& sc : diff.slots) {
        if (sc.before.empty() && !sc.after.empty()) ++next.slots;
        if (!sc.before.empty() && sc.after.empty()) --next.slots;
    }
    if (Status s = commit(diff, true, next); !s.ok()) {
        reset_world();
        return s;
    }
    ++blocks_since_reset_;
    return {};
}

// Applies the releases journaled by `block` (read from the KV, or given when it is the block being
// committed) to the pending counts.
Status StateStore::prune_block(uint64_t block, const std::vector<Hash>* in_memory_journal) {
    Bytes record;
    ByteView hashes;
    if (in_memory_journal != nullptr) {
        for (const Hash& h : *in_memory_journal) record.append(view(h));
    } else {
        Status s = kv_.get(Column::kBlocks, journal_key(block), record);
        if (s.is_not_found()) return {};  // the block released nothing
        if (!s.ok()) return s;
        if (record.size() % 32 != 0) {
            return Status::corruption("the pruning journal of block " + std::to_string(block) + " is " +
                                      std::to_string(record.size()) + " bytes, not a multiple of 32");
        }
    }
    hashes = record;
    for (; !hashes.empty(); hashes.remove_prefix(32)) {
        const Hash h = to_hash(hashes.substr(0, 32));
        Pending::Node* n = nullptr;
        if (Status s = pending_->slot(kv_, *cache_, h, n); !s.ok()) return s;
        if (n->count == 0) {
            return Status::corruption("pruning block " + std::to_string(block) + ": trie node " + hex(h) +
                                      " is released but not stored");
        }
        --n->count;
        n->dirty = true;
    }
    return {};
}

Status StateStore::commit(const state::StateDiff& diff, bool store_diff, const Head& new_head) {
    // One batch reused block after block: its buffer (megabytes) is not freed and reallocated each
    // time, which with a large heap costs glibc's allocator more than filling it.
    WriteBatch& batch = batch_;
    batch.clear();
    for (const auto& a : diff.accounts) {
        if (a.after) {
            batch.put(Column::kAccountLeaves, view(a.key), state::encode_account(*a.after));
        } else {
            batch.del(Column::kAccountLeaves, view(a.key));
        }
    }
    for (const auto& sc : diff.slots) {
        const Bytes key = slot_leaf_key(sc.account_key, sc.slot_key);
        if (sc.after.empty()) {
            batch.del(Column::kStorageLeaves, key);
        } else {
            batch.put(Column::kStorageLeaves, key, sc.after);
        }
    }
    for (const auto& [h, c] : pending_->code) batch.put(Column::kCode, view(h), c);
    if (store_diff) batch.put(Column::kBlocks, block_key(diff.block), state::encode_state_diff(diff));
    if (options_.diff_retention != 0 && diff.block >= options_.diff_retention) {
        batch.del(Column::kBlocks, block_key(diff.block - options_.diff_retention));
    }

    // The window moves on; the roots that leave it take the nodes their successors released.
    std::deque<BlockRoot> window = window_;
    window.push_back({diff.block, new_head.root});
    bool journal_applied = false;
    while (window.size() > options_.root_window) {
        window.pop_front();
        const uint64_t b = window.front().block;
        if (b == diff.block) {
            if (Status s = prune_block(b, &pending_->released); !s.ok()) return s;
            journal_applied = true;
        } else {
            if (Status s = prune_block(b, nullptr); !s.ok()) return s;
            batch.del(Column::kBlocks, journal_key(b));
        }
    }
    if (!journal_applied && !pending_->released.empty()) {
        Bytes record;
        record.reserve(pending_->released.size() * 32);
        for (const Hash& h : pending_->released) record.append(view(h));
        batch.put(Column::kBlocks, journal_key(diff.block), record);
    }

    for (const auto& [h, n] : pending_->nodes) {
        if (!n.dirty) continue;
        if (n.count > 0) {
            batch.put(Column::kTrieNodes, view(h), encode_node_value(n.count, n.rlp));
        } else {
            batch.del(Column::kTrieNodes, view(h));
        }
    }
    batch.put(Column::kMeta, view(kStateKey), encode_state(new_head, window));

    if (Status s = kv_.write(batch, WriteOptions{.sync = options_.sync}); !s.ok()) return s;
    head_ = new_head;
    window_ = std::move(window);
    for (auto& [h, n] : pending_->nodes) {
        if (n.dirty) cache_->put(h, n.count, n.count > 0 ? std::move(n.rlp) : Bytes{});
    }
    pending_->clear();
    return {};
}

// The first block: every change a creation, built bottom-up with HashBuilder (a streaming pass over
// the sorted diff, memory bounded by Options::import_batch_bytes), no WorldState involved.
Status StateStore::apply_genesis(const state::StateDiff& diff, state::StateDiff* seal) {
    const std::string block = std::to_string(diff.block);
    auto fail = [&](state::DiffError e) { return diff_error_status(diff.block, e); };
    if (auto v = state::validate(diff); !v) return fail(v.error());
    if (seal != nullptr) {
        seal->parent_root = trie::kEmptyRoot;
    } else if (diff.parent_root != trie::kEmptyRoot) {
        return Status::invalid_argument("block " + block +
                                        " is the first block of an empty store, but its parent root " +
                                        hex(diff.parent_root) + " is not the empty trie's root");
    }

    pending_->clear();
    std::unordered_set<Hash, trie::HashHasher> codes;
    for (const Bytes& c : diff.code) {
        const Hash h = keccak256(c);
        codes.insert(h);
        code_adapter_->put_code(h, c);
    }

    // Writes so far, flushed in chunks when they outgrow import_batch_bytes.
    WriteBatch batch;
    bool chunked = false;
    Status error;
    ImportFilter written{diff.accounts.size() + diff.slots.size()};
    pending_->import = &written;
    auto flush_nodes = [&] {
        for (const auto& [h, n] : pending_->nodes) {
            if (!n.dirty) continue;
            batch.put(Column::kTrieNodes, view(h), encode_node_value(n.count, n.rlp));
            written.add(h);
        }
        for (const auto& [h, c] : pending_->code) batch.put(Column::kCode, view(h), c);
        pending_->nodes.clear();
        pending_->code.clear();
        pending_->bytes = 0;
    };
    auto flush_chunk = [&]() -> Status {
        flush_nodes();
        if (!chunked) batch.put(Column::kMeta, view(kImportKey), block_key(diff.block));
        chunked = true;
        Status s = kv_.write(batch);
        batch.clear();
        return s;
    };

    NodeAdapter& nodes = *node_adapter_;
    trie::HashBuilder account_hb{[&nodes](ByteView, const Hash& h, ByteView rlp) { nodes.put_node(h, rlp); }};
    trie::HashBuilder storage_hb{[&nodes](ByteView, const Hash& h, ByteView rlp) { nodes.put_node(h, rlp); }};
    Head next{diff.block, trie::kEmptyRoot, 0, 0};
    std::size_t si = 0;
    for (std::size_t ai = 0; ai < diff.accounts.size() && error.ok(); ++ai) {
        const state::AccountChange& change = diff.accounts[ai];
        if (change.before || !change.after) {
            error = fail(state::DiffError::kBeforeMismatch);  // the state is empty: nothing to update or delete
            break;
        }
        bool has_slots = false;
        for (; si < diff.slots.size() && diff.slots[si].account_key == change.key; ++si) {
            const state::SlotChange& sc = diff.slots[si];
            if (!sc.before.empty()) {
                error = fail(state::DiffError::kBeforeMismatch);
                break;
            }
            storage_hb.add_leaf(view(sc.slot_key), sc.after);
            batch.put(Column::kStorageLeaves, slot_leaf_key(sc.account_key, sc.slot_key), sc.after);
            has_slots = true;
            ++next.slots;
        }
        if (!error.ok()) break;
        const Hash storage_root = has_slots ? storage_hb.root() : trie::kEmptyRoot;
        if (seal != nullptr) {
            seal->accounts[ai].after->storage_root = storage_root;
        } else if (storage_root != change.after->storage_root) {
            error = fail(state::DiffError::kStorageRootMismatch);
            break;
        }
        if (change.after->code_hash != state::kEmptyCodeHash && codes.count(change.after->code_hash) == 0) {
            error = fail(state::DiffError::kMissingCode);
            break;
        }
        const Bytes rlp = state::encode_account(*change.after);
        account_hb.add_leaf(view(change.key), rlp);
        batch.put(Column::kAccountLeaves, view(change.key), rlp);
        ++next.accounts;
        if (!pending_->error.ok()) error = pending_->error;
        if (error.ok() && batch.byte_size() + pending_->bytes > options_.import_batch_bytes) error = flush_chunk();
    }
    if (error.ok()) {
        next.root = account_hb.root();
        if (seal != nullptr) {
            seal->root = next.root;
        } else if (next.root != diff.root) {
            error = fail(state::DiffError::kRootMismatch);
        }
    }
    if (error.ok() && !pending_->error.ok()) error = pending_->error;
    if (!error.ok()) {
        pending_->clear();
        if (chunked) {
            if (Status w = wipe(); !w.ok()) return w;
        }
        return error;
    }

    flush_nodes();
    std::deque<BlockRoot> window{{diff.block, next.root}};
    batch.put(Column::kMeta, view(kStateKey), encode_state(next, window));
    if (chunked) batch.del(Column::kMeta, view(kImportKey));
    if (Status s = kv_.write(batch, WriteOptions{.sync = options_.sync}); !s.ok()) {
        pending_->clear();
        if (chunked) (void)wipe();
        return s;
    }
    head_ = next;
    window_ = std::move(window);
    reset_world();
    return {};
}

// ---- reading ---------------------------------------------------------------------------------------------

StateStore::Head StateStore::head() const { return head_; }

std::vector<StateStore::BlockRoot> StateStore::roots() const { return {window_.begin(), window_.end()}; }

std::optional<Hash> StateStore::root_at(uint64_t block) const {
    if (window_.empty() || block < window_.front().block || block > window_.back().block) return std::nullopt;
    return window_[block - window_.front().block].root;
}

tl::expected<std::optional<state::Account>, Status> StateStore::account(const Hash& account_key) const {
    Bytes v;
    Status s = kv_.get(Column::kAccountLeaves, view(account_key), v);
    if (s.is_not_found()) return std::optional<state::Account>{};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    ByteView in = v;
    auto a = state::decode_account(in);
    if (!a || !in.empty()) {
        return tl::unexpected{Status::corruption("the account leaf " + hex(account_key) + " does not decode")};
    }
    return std::optional<state::Account>{*a};
}

tl::expected<Bytes, Status> StateStore::storage(const Hash& account_key, const Hash& slot_key) const {
    Bytes v;
    Status s = kv_.get(Column::kStorageLeaves, slot_leaf_key(account_key, slot_key), v);
    if (s.is_not_found()) return Bytes{};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    return v;
}

LeafIterator StateStore::account_leaves(const Hash& from, const std::optional<Hash>& to) const {
    KeyRange range{Bytes{view(from)}, to ? std::optional<Bytes>{Bytes{view(*to)}} : std::nullopt};
    return LeafIterator{kv_.new_iterator(Column::kAccountLeaves, std::move(range)), Bytes{}};
}

LeafIterator StateStore::storage_leaves(const Hash& account_key, const Hash& from,
                                        const std::optional<Hash>& to) const {
    KeyRange range{slot_leaf_key(account_key, from),
                   to ? std::optional<Bytes>{slot_leaf_key(account_key, *to)} : prefix_successor(view(account_key))};
    return LeafIterator{kv_.new_iterator(Column::kStorageLeaves, std::move(range)), Bytes{view(account_key)}};
}

tl::expected<std::optional<Bytes>, Status> StateStore::node(const Hash& hash) const {
    Bytes v;
    Status s = kv_.get(Column::kTrieNodes, view(hash), v);
    if (s.is_not_found()) return std::optional<Bytes>{};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    auto decoded = decode_node_value(v);
    if (!decoded) return tl::unexpected{malformed_node(hash)};
    return std::optional<Bytes>{Bytes{decoded->rlp}};
}

tl::expected<uint64_t, Status> StateStore::node_references(const Hash& hash) const {
    Bytes v;
    Status s = kv_.get(Column::kTrieNodes, view(hash), v);
    if (s.is_not_found()) return uint64_t{0};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    auto decoded = decode_node_value(v);
    if (!decoded) return tl::unexpected{malformed_node(hash)};
    return decoded->count;
}

tl::expected<std::optional<Bytes>, Status> StateStore::code(const Hash& code_hash) const {
    Bytes v;
    Status s = kv_.get(Column::kCode, view(code_hash), v);
    if (s.is_not_found()) return std::optional<Bytes>{};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    return std::optional<Bytes>{std::move(v)};
}

tl::expected<std::optional<state::StateDiff>, Status> StateStore::diff(uint64_t block) const {
    Bytes v;
    Status s = kv_.get(Column::kBlocks, block_key(block), v);
    if (s.is_not_found()) return std::optional<state::StateDiff>{};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    auto d = state::decode_state_diff(v);
    if (!d) {
        return tl::unexpected{Status::corruption("the diff of block " + std::to_string(block) +
                                                 " does not decode: " + std::string{to_string(d.error())})};
    }
    if (d->block != block) {
        return tl::unexpected{Status::corruption("the diff stored for block " + std::to_string(block) + " is block " +
                                                 std::to_string(d->block))};
    }
    return std::optional<state::StateDiff>{std::move(*d)};
}

trie::NodeStore& StateStore::node_store() noexcept { return *read_nodes_; }
state::CodeStore& StateStore::code_store() noexcept { return *read_code_; }

}  // namespace carousel::store
