// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Trie's hashing: root(), roots() and root(ForkJoin&). Only the nodes changed since the previous
// call are re-encoded and re-hashed (DirtyHasher), those of 32 bytes or more written to the store,
// and the stored nodes the updates replaced released from it.
#include <algorithm>
#include <array>
#include <bit>
#include <optional>

#include <carousel/core/assert.hpp>
#include <carousel/core/keccak.hpp>

#include "trie.hpp"
#include "trie_node.hpp"

namespace carousel::trie {

using namespace trie_detail;  // the Trie's own internals (trie_node.hpp)

namespace {

// Re-encodes and re-hashes the dirty nodes of one or more tries, level by level from the deepest up,
// so that the nodes of a level (which only need their children's references, all known by then) are
// hashed several at a time with keccak256_batch. A node's level is its depth below its trie's root,
// so a parent always comes after its dirty children. Nodes whose RLP is shorter
// than 32 bytes are not hashed (their reference is the RLP itself); the others are written to their
// trie's store. Gives the same references as encoding each node recursively.
class DirtyHasher {
  public:
    // The buffers start as the ones the thread's previous DirtyHasher left (a level's RLP runs to
    // megabytes: fresh memory would cost a page fault every 4 KiB, and regrowth a copy). A DirtyHasher
    // made while another is alive on the thread (a store's put_nodes hashing a trie) starts empty.
    DirtyHasher() { swap_buffers(); }
    ~DirtyHasher() {
        for (auto& level : levels_) level.clear();
        if (rlp_.capacity() <= kMaxKeptRlp) swap_buffers();
    }
    DirtyHasher(const DirtyHasher&) = delete;
    DirtyHasher& operator=(const DirtyHasher&) = delete;

    // Adds the dirty nodes under `root` (a dirty node) of a trie over `store`.
    void add(NodeStore* store, TNode& root) {
        if (levels_.empty()) levels_.resize(1);
        levels_[0].push_back({&root, store, nullptr, 0});
    }

    void run() {
        // The dirty nodes, level by level from the roots down, all tries at once: a level's nodes were
        // prefetched when their parents' level listed them, so their cache misses overlap.
        constexpr std::size_t kAhead = 4;
        for (std::size_t depth = 0; depth < levels_.size() && !levels_[depth].empty(); ++depth) {
            if (levels_.size() == depth + 1) levels_.resize(depth + 2);
            std::vector<Item>& level = levels_[depth];
            std::vector<Item>& below = levels_[depth + 1];
            // Listed: every child an update went through (only those can be dirty); the clean are dropped
            // as the level is walked.
            std::size_t kept = 0;
            for (std::size_t i = 0; i < level.size(); ++i) {
                if (i + kAhead < level.size()) {
                    const TNode& ahead = *level[i + kAhead].node;
                    if (ahead.dirty && ahead.kind == NodeKind::kBranch) {
                        __builtin_prefetch(&ahead.kids->nodes[0]);
                        __builtin_prefetch(&ahead.kids->nodes[8]);
                        __builtin_prefetch(&ahead.kids->stale);
                    }
                }
                const Item item = level[i];
                TNode& n = *item.node;
                if (!n.dirty) continue;
                level[kept++] = item;
                if (n.kind == NodeKind::kExtension) {
                    prefetch_node_memory(n.child.get());
                    below.push_back({n.child.get(), item.store, nullptr, 0});
                } else if (n.kind == NodeKind::kBranch) {
                    for (unsigned m = n.kids->stale; m != 0; m &= m - 1) {
                        const auto slot = static_cast<uint8_t>(std::countr_zero(m));
                        TNode* c = n.kids->nodes[slot].get();
                        if (c == nullptr) continue;
                        prefetch_node_memory(c);
                        below.push_back({c, item.store, n.kids.get(), slot});
                    }
                }
            }
            level.resize(kept);
        }
        // Then hashed from the deepest level up: a node's dirty children are one level below it.
        for (std::size_t depth = levels_.size(); depth-- > 0;) {
            if (!levels_[depth].empty()) hash_level(levels_[depth]);
            levels_[depth].clear();
        }
    }

  private:
    // Takes the references of the children an update went through that did not pass theirs up
    // (hashed by now: a lower level): those that were clean, and emptied slots.
    static void refresh_references(Children& kids) {
        for (unsigned m = kids.stale; m != 0; m &= m - 1) {
            const auto i = static_cast<std::size_t>(std::countr_zero(m));
            const TNode* c = kids.nodes[i].get();
            kids.ref_len[i] = c != nullptr ? c->ref_len : 0;
            if (c != nullptr) std::memcpy(kids.refs[i].data(), c->ref, c->ref_len);
        }
        kids.stale = 0;
    }

    struct Item {
        TNode* node;
        NodeStore* store;
        Children* parent;  // the branch whose slot `slot` holds the node, or null (a root, an extension's child)
        uint8_t slot;
    };

    // Writes a node's new reference into its parent branch's slot and marks the slot fresh, so that
    // the parent, a level later, need not read it from the node (by then out of cache).
    static void pass_reference_up(const Item& it) noexcept {
        if (it.parent == nullptr) return;
        Children& kids = *it.parent;
        std::memcpy(kids.refs[it.slot].data(), it.node->ref, it.node->ref_len);
        kids.ref_len[it.slot] = it.node->ref_len;
        kids.stale = static_cast<uint16_t>(kids.stale & ~(1U << it.slot));
    }
    // Starts fetching what pass_reference_up(it) writes, for writing.
    static void prefetch_parent_slot(const Item& it) noexcept {
        if (it.parent == nullptr) return;
        __builtin_prefetch(&it.parent->refs[it.slot], 1);
        __builtin_prefetch(&it.parent->stale, 1);
    }
    struct Pending {
        std::size_t begin;  // the RLP in rlp_
        std::size_t size;
        Item item;
    };

    void hash_level(const std::vector<Item>& items) {
        rlp_.clear();
        pending_.clear();
        // The nodes of a level are scattered in memory: fetch them some items ahead.
        constexpr std::size_t kAhead = 4;
        for (std::size_t i = 0; i < items.size() && i < 2 * kAhead; ++i) prefetch_node_memory(items[i].node);
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (i + 2 * kAhead < items.size()) prefetch_node_memory(items[i + 2 * kAhead].node);
            if (i + kAhead < items.size()) prefetch_node_contents(*items[i + kAhead].node);
            const Item& it = items[i];
            prefetch_parent_slot(it);  // written once the level is hashed
            if (it.node->kind == NodeKind::kBranch) refresh_references(*it.node->kids);
            const std::size_t begin = rlp_.size();
            encode_into(rlp_, *it.node);
            const std::size_t size = rlp_.size() - begin;
            if (size < 32) {
                TNode& n = *it.node;
                std::memcpy(n.ref, rlp_.data() + begin, size);
                n.ref_len = static_cast<uint8_t>(size);
                n.dirty = false;
                pass_reference_up(it);
            } else {
                pending_.push_back({begin, size, it});
            }
        }
        // Lanes run in lock step: batch messages of the same number of Keccak blocks together, then in
        // the order encoded (a counting sort by block count; counts past kBuckets share the last bucket,
        // which costs those rare long messages idle lanes, not correctness).
        constexpr std::size_t kBuckets = 8;
        std::array<std::size_t, kBuckets + 1> start{};
        for (const Pending& p : pending_) ++start[std::min(keccak_blocks(p.size), kBuckets)];
        for (std::size_t b = 1, at = 0; b <= kBuckets; ++b) {
            const std::size_t count = start[b];
            start[b] = at;
            at += count;
        }
        sorted_.resize(pending_.size());
        for (const Pending& p : pending_) sorted_[start[std::min(keccak_blocks(p.size), kBuckets)]++] = p;
        pending_.swap(sorted_);
        in_.clear();
        out_.clear();
        for (const Pending& p : pending_) {
            in_.emplace_back(rlp_.data() + p.begin, p.size);
            out_.push_back(p.item.node->ref);
        }
        keccak256_batch(in_, out_);
        hashes_.clear();
        for (const Pending& p : pending_) {
            TNode& n = *p.item.node;
            n.ref_len = 32;
            n.dirty = false;
            hashes_.push_back(to_hash(n.reference()));
            pass_reference_up(p.item);
        }
        // To the stores, a run of nodes of the same store at a time.
        for (std::size_t begin = 0, end = 0; begin < pending_.size(); begin = end) {
            NodeStore* store = pending_[begin].item.store;
            for (end = begin + 1; end < pending_.size() && pending_[end].item.store == store;) ++end;
            if (store != nullptr) {
                store->put_nodes({hashes_.data() + begin, end - begin}, {in_.data() + begin, end - begin});
            }
        }
    }

    struct Buffers {
        std::vector<std::vector<Item>> levels;
        Bytes rlp;
        std::vector<Pending> pending;
        std::vector<Pending> sorted;
        std::vector<ByteView> in;
        std::vector<uint8_t*> out;
        std::vector<Hash> hashes;
    };
    static constexpr std::size_t kMaxKeptRlp = std::size_t{64} << 20;  // a thread keeps no more

    void swap_buffers() noexcept {
        thread_local Buffers spare;
        levels_.swap(spare.levels);
        rlp_.swap(spare.rlp);
        pending_.swap(spare.pending);
        sorted_.swap(spare.sorted);
        in_.swap(spare.in);
        out_.swap(spare.out);
        hashes_.swap(spare.hashes);
    }

    std::vector<std::vector<Item>> levels_;
    Bytes rlp_;  // the RLP of the level's nodes, back to back
    std::vector<Pending> pending_;
    std::vector<Pending> sorted_;  // pending_, by Keccak block count
    std::vector<ByteView> in_;
    std::vector<uint8_t*> out_;
    std::vector<Hash> hashes_;
};

}  // namespace

Hash Trie::root() {
    Trie* self = this;
    Hash h{};
    roots({&self, 1}, {&h, 1});
    return h;
}

void Trie::roots(std::span<Trie* const> tries, std::span<Hash> out) { roots_to(tries, out, nullptr); }

void Trie::roots(std::span<Trie* const> tries, std::span<Hash> out, NodeStore& writes) {
    roots_to(tries, out, &writes);
}

void Trie::roots_to(std::span<Trie* const> tries, std::span<Hash> out, NodeStore* writes) {
    CAROUSEL_ASSERT(tries.size() == out.size(), "one root per trie");
    DirtyHasher hasher;
    for (Trie* t : tries) {
        NodeStore* to = writes != nullptr ? writes : t->store_;
        t->release_replaced(to);
        if (t->root_ && t->root_->dirty) hasher.add(to, *t->root_);
    }
    hasher.run();
    for (std::size_t i = 0; i < tries.size(); ++i) {
        Trie& t = *tries[i];
        NodeStore* to = writes != nullptr ? writes : t.store_;
        if (!t.root_) {
            out[i] = kEmptyRoot;
        } else if (t.root_->ref_len == 32) {
            out[i] = to_hash(t.root_->reference());
        } else {
            // A root shorter than 32 bytes is still referenced by its hash. (It is not released when
            // it changes; only tries with keys shorter than 32 bytes can have one.)
            out[i] = keccak256(t.root_->reference());
            if (to != nullptr) to->put_node(out[i], t.root_->reference());
        }
    }
}

void Trie::release_replaced(NodeStore* to) {
    if (to != nullptr) {
        for (const Hash& h : released_) to->release_node(h);
    }
    released_.clear();
}

Hash Trie::root(ForkJoin& fork) {
    if (!fork.parallel() || !root_ || !root_->dirty || root_->is_ref || root_->kind != NodeKind::kBranch) {
        return root();
    }
    release_replaced(store_);
    // The dirty nodes below each half of the root's slots; the root itself is hashed last, by root().
    const Children& kids = *root_->kids;
    auto hash_below = [&kids](uint16_t slots, NodeStore* writes) {
        DirtyHasher hasher;
        for (unsigned m = kids.stale & slots; m != 0; m &= m - 1) {
            TNode* c = kids.nodes[static_cast<std::size_t>(std::countr_zero(m))].get();
            if (c != nullptr && c->dirty) hasher.add(writes, *c);  // no parent: `kids` is the caller's to write
        }
        hasher.run();
    };
    // Both threads write to the store, one batch at a time; neither reads it.
    std::optional<LockedNodeStore> locked;
    if (store_ != nullptr) locked.emplace(*store_);
    NodeStore* writes = locked ? &*locked : nullptr;
    fork.run([&] { hash_below(0x00ff, writes); }, [&] { hash_below(0xff00, writes); });
    return root();
}

}  // namespace carousel::trie
