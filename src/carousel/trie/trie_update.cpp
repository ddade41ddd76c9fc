// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Trie's updates: put, erase, exchange and exchange_all. Insert and delete follow go-ethereum's
// trie/trie.go (insert / delete with node collapse). An update loads the nodes on its key's path,
// marks every node it changes dirty (root() re-hashes them) and notes the stored nodes it replaces,
// which root() releases from the store.
#include <algorithm>
#include <bit>
#include <optional>

#include "trie.hpp"
#include "trie_node.hpp"
#include "trie_prefetch.hpp"

namespace carousel::trie {

using namespace trie_detail;  // the Trie's own internals (trie_node.hpp)

namespace {

// Takes the child out of slot i (loaded or not), leaving the slot empty.
NodePtr take_child(Children& kids, std::size_t i) {
    NodePtr c = std::move(kids.nodes[i]);
    if (!c && kids.ref_len[i] == 32) c = make_ref(kids.refs[i].data());
    kids.set(i, nullptr);
    return c;
}

// What an update needs: the store to load nodes from, and where to note the stored nodes it
// replaces (released to the store at the next root()).
struct Ctx {
    NodeStore* store;
    std::vector<Hash>& released;
    std::size_t& loaded;
    Bytes* old{nullptr};  // if set, receives the value the key held (left as is if it was absent)
};

void note_old(Ctx& ctx, const Bytes& value) {
    if (ctx.old != nullptr) ctx.old->assign(value);
}

// Marks `n` as changing. If it was a clean node stored by hash, the trie no longer references that
// stored copy.
void retire(Ctx& ctx, TNode& n) {
    if (!n.dirty && !n.is_ref && n.ref_len == 32) ctx.released.push_back(to_hash(n.reference()));
    n.dirty = true;
}

// Inserts; the caller guarantees `value` is not empty.
// A leaf or extension split where `key` leaves its path after `cp` shared nibbles: the new key goes
// into `branch` (its value there, or a leaf below it), and the branch under an extension of the shared
// nibbles when there are any.
NodePtr add_new_key(NodePtr branch, ByteView key, std::size_t cp, ByteView value) {
    if (cp == key.size()) {
        branch->value = Bytes{value};
    } else {
        branch->kids->set(key[cp], make_leaf(key.substr(cp + 1), value));
    }
    return cp > 0 ? make_extension(key.substr(0, cp), std::move(branch)) : std::move(branch);
}

Result<void> insert(Ctx& ctx, NodePtr& n, ByteView key, ByteView value) {
    if (!n) {
        n = make_leaf(key, value);
        return {};
    }
    if (auto r = resolve(ctx.store, n, ctx.loaded); !r) return r;
    switch (n->kind) {
        case NodeKind::kLeaf: {
            const std::size_t cp = common_prefix_length(n->path, key);
            if (cp == n->path.size() && cp == key.size()) {
                note_old(ctx, n->value);
                if (n->value != value) {
                    retire(ctx, *n);
                    n->value.assign(value.data(), value.size());  // reuses its buffer
                }
                return {};
            }
            retire(ctx, *n);
            NodePtr branch = make_branch();
            if (cp == n->path.size()) {
                branch->value = std::move(n->value);
            } else {
                branch->kids->set(n->path[cp], make_leaf(ByteView{n->path}.substr(cp + 1), n->value));
            }
            n = add_new_key(std::move(branch), key, cp, value);
            return {};
        }
        case NodeKind::kExtension: {
            const std::size_t cp = common_prefix_length(n->path, key);
            if (cp == n->path.size()) {
                if (auto r = insert(ctx, n->child, key.substr(cp), value); !r) return r;
                retire(ctx, *n);
                return {};
            }
            retire(ctx, *n);
            NodePtr branch = make_branch();
            const uint8_t ext_slot = n->path[cp];
            if (cp + 1 < n->path.size()) {
                branch->kids->set(ext_slot, make_extension(ByteView{n->path}.substr(cp + 1), std::move(n->child)));
            } else {
                branch->kids->set(ext_slot, std::move(n->child));
            }
            n = add_new_key(std::move(branch), key, cp, value);
            return {};
        }
        case NodeKind::kBranch:
            if (key.empty()) {
                note_old(ctx, n->value);
                if (n->value != value) {
                    retire(ctx, *n);
                    n->value.assign(value.data(), value.size());
                }
                return {};
            }
            {
                auto c = child(ctx.store, *n->kids, key[0], ctx.loaded);
                if (!c) return tl::unexpected{c.error()};
                n->kids->touch(key[0]);
                if (auto r = insert(ctx, **c, key.substr(1), value); !r) return r;
            }
            retire(ctx, *n);  // a child may have changed; re-hashing an unchanged one is cheap
            return {};
    }
    return {};
}

// After a deletion below an extension or a branch, folds a lone child into its parent's path.
Result<void> collapse_extension(Ctx& ctx, NodePtr& n) {
    if (auto r = resolve(ctx.store, n->child, ctx.loaded); !r) return r;
    TNode& c = *n->child;
    if (c.kind == NodeKind::kLeaf || c.kind == NodeKind::kExtension) {
        Nibbles path = n->path + c.path;
        NodePtr child = std::move(n->child);
        retire(ctx, *child);
        child->path = std::move(path);
        n = std::move(child);
    }
    return {};
}

// A branch `n` (retired) that lost an entry: with fewer than two entries left, it becomes what a trie
// of its remaining entry is (nothing, a leaf, or its lone child under a longer path).
Result<void> collapse_branch(Ctx& ctx, NodePtr& n) {
    int only = -1;
    int entries = n->value.empty() ? 0 : 1;
    for (int i = 0; i < 16; ++i) {
        if (n->kids->has(static_cast<std::size_t>(i))) {
            ++entries;
            only = i;
        }
    }
    if (entries >= 2) return {};
    if (entries == 0) {
        n.reset();
        return {};
    }
    if (only < 0) {  // only the value is left: the branch becomes a leaf with an empty path
        n = make_leaf({}, n->value);
        return {};
    }
    const auto slot = static_cast<uint8_t>(only);
    NodePtr only_child = take_child(*n->kids, slot);
    n = make_extension(ByteView{&slot, 1}, std::move(only_child));
    return collapse_extension(ctx, n);
}

// Deletes `key`; sets `changed` if something was removed.
Result<void> remove(Ctx& ctx, NodePtr& n, ByteView key, bool& changed) {
    if (!n) return {};
    if (auto r = resolve(ctx.store, n, ctx.loaded); !r) return r;
    switch (n->kind) {
        case NodeKind::kLeaf:
            if (n->path == key) {
                note_old(ctx, n->value);
                retire(ctx, *n);
                n.reset();
                changed = true;
            }
            return {};
        case NodeKind::kExtension: {
            if (key.size() < n->path.size() || key.substr(0, n->path.size()) != ByteView{n->path}) return {};
            if (auto r = remove(ctx, n->child, key.substr(n->path.size()), changed); !r) return r;
            if (!changed) return {};
            retire(ctx, *n);
            if (!n->child) {  // cannot happen in a well-formed trie (a branch never empties at once)
                n.reset();
                return {};
            }
            return collapse_extension(ctx, n);
        }
        case NodeKind::kBranch: {
            if (key.empty()) {
                if (n->value.empty()) return {};
                note_old(ctx, n->value);
                retire(ctx, *n);
                n->value.clear();
                changed = true;
            } else {
                auto c = child(ctx.store, *n->kids, key[0], ctx.loaded);
                if (!c) return tl::unexpected{c.error()};
                if (auto r = remove(ctx, **c, key.substr(1), changed); !r) return r;
                if (!changed) return {};
                n->kids->touch(key[0]);
                if (!**c) n->kids->set(key[0], nullptr);
            }
            retire(ctx, *n);
            return collapse_branch(ctx, n);
        }
    }
    return {};
}

}  // namespace

tl::expected<void, TrieError> Trie::put(ByteView key, ByteView value) {
    if (value.empty()) return erase(key);
    const KeyPath path{key};
    Ctx ctx{store_, released_, loaded_, nullptr};
    return insert(ctx, root_, path.view(), value);
}

tl::expected<void, TrieError> Trie::exchange(ByteView key, ByteView value, Bytes& old) {
    old.clear();
    const KeyPath path{key};
    Ctx ctx{store_, released_, loaded_, &old};
    if (value.empty()) {
        bool changed = false;
        return remove(ctx, root_, path.view(), changed);
    }
    return insert(ctx, root_, path.view(), value);
}

tl::expected<void, TrieError> Trie::erase(ByteView key) {
    const KeyPath path{key};
    bool changed = false;
    Ctx ctx{store_, released_, loaded_, nullptr};
    return remove(ctx, root_, path.view(), changed);
}

tl::expected<void, Trie::UpdateFailure> Trie::exchange_all(std::span<const Update> updates, ForkJoin& fork) {
    constexpr std::size_t kGroup = 128;       // keys prefetched together (as WorldState did)
    constexpr std::size_t kMinParallel = 64;  // fewer updates are not worth a wake-up of the helper
    bool split = fork.parallel() && store_ != nullptr && store_->concurrent_reads() && updates.size() >= kMinParallel;
    for (std::size_t i = 0; split && i < updates.size(); ++i) split = !updates[i].key.empty();
    if (split) {
        if (auto r = resolve(store_, root_, loaded_); !r) return tl::unexpected{UpdateFailure{0, r.error()}};
        split = root_ && root_->kind == NodeKind::kBranch;
    }
    if (!split) {
        std::vector<KeyOf> keys;
        for (std::size_t i = 0; i < updates.size(); ++i) {
            if (i % kGroup == 0) {
                keys.clear();
                for (std::size_t k = i; k < std::min(updates.size(), i + kGroup); ++k)
                    keys.push_back({this, updates[k].key});
                prefetch(keys);
            }
            if (auto r = exchange(updates[i].key, updates[i].value, *updates[i].old); !r) {
                return tl::unexpected{UpdateFailure{i, r.error()}};
            }
        }
        return {};
    }

    // Each half walks below the root's slots of its own: it writes only those slots' child pointers
    // (distinct objects) and its own counters; the root's shared fields are updated after the join.
    Children& kids = *root_->kids;
    struct Half {
        std::vector<Hash> released;
        std::size_t loaded{0};
        uint16_t touched{0};  // slots an update went through
        std::size_t last_removal{0};
        std::optional<UpdateFailure> failure;
    };
    auto update_half = [&](Half& h, bool high) {
        Ctx ctx{store_, h.released, h.loaded, nullptr};
        std::vector<std::size_t> mine;
        for (std::size_t i = 0; i < updates.size(); ++i) {
            if ((updates[i].key[0] >= 0x80) == high) mine.push_back(i);
        }
        Bytes nibbles;                // the group's keys, unpacked once for the prefetch and the updates
        std::vector<std::size_t> at;  // where each key's nibbles start
        std::vector<PrefetchCursor> cursors;
        for (std::size_t g = 0; g < mine.size(); g += kGroup) {
            const std::size_t end = std::min(mine.size(), g + kGroup);
            at.assign(1, 0);
            for (std::size_t k = g; k < end; ++k) at.push_back(at.back() + 2 * updates[mine[k]].key.size());
            nibbles.assign(at.back(), 0);
            cursors.clear();
            for (std::size_t k = g; k < end; ++k) {
                uint8_t* path = nibbles.data() + at[k - g];
                unpack_nibbles(updates[mine[k]].key, path);
                __builtin_prefetch(&kids.nodes[path[0]]);
                cursors.push_back({store_, &h.loaded, nullptr, &kids, path + 1, at[k - g + 1] - at[k - g] - 1, path[0],
                                   PrefetchCursor::Stage::kKid});
            }
            run_prefetch(cursors);
            for (std::size_t k = g; k < end; ++k) {
                const std::size_t i = mine[k];
                const Update& u = updates[i];
                const ByteView rest{nibbles.data() + at[k - g], at[k - g + 1] - at[k - g]};
                const uint8_t slot = rest[0];
                u.old->clear();
                ctx.old = u.old;
                auto c = child(store_, kids, slot, h.loaded);
                Result<void> r;
                if (!c) {
                    r = tl::unexpected{c.error()};
                } else if (!u.value.empty()) {
                    h.touched = static_cast<uint16_t>(h.touched | (1U << slot));
                    r = insert(ctx, **c, rest.substr(1), u.value);
                } else {
                    bool changed = false;
                    r = remove(ctx, **c, rest.substr(1), changed);
                    if (changed) {
                        h.touched = static_cast<uint16_t>(h.touched | (1U << slot));
                        h.last_removal = i;
                    }
                }
                if (!r) {
                    h.failure = UpdateFailure{i, r.error()};
                    return;
                }
            }
        }
    };
    Half low;
    Half high;
    fork.run([&] { update_half(low, false); }, [&] { update_half(high, true); });
    released_.insert(released_.end(), low.released.begin(), low.released.end());
    released_.insert(released_.end(), high.released.begin(), high.released.end());
    loaded_ += low.loaded + high.loaded;
    std::optional<UpdateFailure> failure = low.failure;
    if (high.failure && (!failure || high.failure->index < failure->index)) failure = high.failure;
    const auto touched = static_cast<uint16_t>(low.touched | high.touched);
    if (touched != 0) {
        Ctx ctx{store_, released_, loaded_, nullptr};
        kids.stale = static_cast<uint16_t>(kids.stale | touched);
        bool emptied = false;
        for (unsigned m = touched; m != 0; m &= m - 1) {
            const auto slot = static_cast<std::size_t>(std::countr_zero(m));
            if (!kids.nodes[slot]) {
                kids.set(slot, nullptr);
                emptied = true;
            }
        }
        retire(ctx, *root_);
        if (emptied) {
            if (auto r = collapse_branch(ctx, root_); !r && !failure) {
                failure = UpdateFailure{std::max(low.last_removal, high.last_removal), r.error()};
            }
        }
    }
    if (failure) return tl::unexpected{*failure};
    return {};
}

}  // namespace carousel::trie
