// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Insert and delete follow go-ethereum's trie/trie.go (insert / delete with node collapse).
#include "trie.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <unordered_set>

#include <carousel/core/assert.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/core/nibbles.hpp>

#include "node.hpp"

namespace carousel::trie {

const Hash kEmptyRoot = keccak256(ByteView{reinterpret_cast<const uint8_t*>("\x80"), 1});  // NOLINT

std::string_view to_string(TrieError e) noexcept {
    switch (e) {
        case TrieError::kMissingNode:
            return "trie node missing from the store";
        case TrieError::kBadNode:
            return "stored trie node does not decode";
        case TrieError::kStoreError:
            return "the node store failed to read a node";
    }
    return "unknown trie error";
}

using NodePtr = std::unique_ptr<Trie::TrieNode>;

// A branch's children. Each slot holds its child's reference as of the last encoding (or as decoded
// from the store) next to the child itself: a child known only by hash is not allocated until a
// walk needs it (`nodes[i]` null, `ref_len[i] == 32`), and encoding a branch reads its clean
// children's references from here rather than from sixteen scattered nodes. Bit i of `stale` is set
// when `nodes[i]` may have changed since `refs[i]` was taken (an update went through the slot);
// root() refreshes those references before encoding. A slot is empty when `nodes[i]` is null and
// `ref_len[i]` is 0. Embedded children (RLP shorter than 32 bytes) are always in `nodes`.
struct Children {
    std::array<NodePtr, 16> nodes;
    std::array<std::array<uint8_t, 32>, 16> refs;  // refs[i] past ref_len[i] is unspecified (not zeroed)
    std::array<uint8_t, 16> ref_len{};
    uint16_t stale{0};

    bool has(std::size_t i) const noexcept { return nodes[i] != nullptr || ref_len[i] != 0; }
    ByteView ref(std::size_t i) const noexcept { return {refs[i].data(), ref_len[i]}; }
    // Puts a new child (or none) in slot i.
    void set(std::size_t i, NodePtr n) noexcept {
        nodes[i] = std::move(n);
        ref_len[i] = 0;
        stale = static_cast<uint16_t>(stale | (1U << i));
    }
    // An update goes through slot i (which holds a loaded child).
    void touch(std::size_t i) noexcept { stale = static_cast<uint16_t>(stale | (1U << i)); }
};

struct Trie::TrieNode {
    NodeKind kind{NodeKind::kLeaf};
    bool is_ref{false};  // only the hash is known: load from the store before use
    bool dirty{true};    // `ref` is stale
    uint8_t ref_len{0};
    uint8_t ref[32]{};
    Nibbles path;                    // leaf, extension
    Bytes value;                     // leaf, branch
    NodePtr child;                   // extension
    std::unique_ptr<Children> kids;  // branch

    ByteView reference() const noexcept { return {ref, ref_len}; }
};

namespace {

using TNode = Trie::TrieNode;
template <class T>
using Result = tl::expected<T, TrieError>;

NodePtr make_leaf(ByteView path, ByteView value) {
    auto n = std::make_unique<TNode>();
    n->kind = NodeKind::kLeaf;
    n->path = Nibbles{path};
    n->value = Bytes{value};
    return n;
}

NodePtr make_extension(ByteView path, NodePtr child) {
    auto n = std::make_unique<TNode>();
    n->kind = NodeKind::kExtension;
    n->path = Nibbles{path};
    n->child = std::move(child);
    return n;
}

NodePtr make_branch() {
    auto n = std::make_unique<TNode>();
    n->kind = NodeKind::kBranch;
    n->kids = std::make_unique_for_overwrite<Children>();  // does not zero `refs`
    return n;
}

NodePtr make_ref(const uint8_t* hash) {
    auto n = std::make_unique<TNode>();
    n->is_ref = true;
    n->dirty = false;
    n->ref_len = 32;
    std::memcpy(n->ref, hash, 32);
    return n;
}

// Decodes a node. `hash` is its hash when known (a node loaded by hash: the store is trusted to
// return the RLP that hashes to its key, as go-ethereum's database is), else null.
Result<NodePtr> node_from_rlp(ByteView rlp, const uint8_t* hash = nullptr);

// A child reference from a decoded node: a hash becomes an unloaded ref, an embedded node is decoded.
Result<NodePtr> child_from_reference(ByteView ref) {
    if (ref.empty()) return NodePtr{};
    if (ref.size() == 32) return make_ref(ref.data());
    return node_from_rlp(ref);
}

Result<NodePtr> node_from_rlp(ByteView rlp, const uint8_t* hash) {
    auto decoded = decode_node(rlp);
    if (!decoded) return tl::unexpected{TrieError::kBadNode};
    NodePtr n;
    switch (decoded->kind) {
        case NodeKind::kLeaf:
            n = make_leaf({}, decoded->value);
            n->path = std::move(decoded->path);  // the decoded path itself, not a copy
            break;
        case NodeKind::kExtension: {
            auto c = child_from_reference(decoded->children[0]);
            if (!c) return tl::unexpected{c.error()};
            n = make_extension({}, std::move(*c));
            n->path = std::move(decoded->path);
            break;
        }
        case NodeKind::kBranch:
            n = make_branch();
            n->value = Bytes{decoded->value};
            for (std::size_t i = 0; i < 16; ++i) {
                const ByteView ref = decoded->children[i];
                if (ref.empty()) continue;
                Children& kids = *n->kids;
                std::memcpy(kids.refs[i].data(), ref.data(), ref.size());
                kids.ref_len[i] = static_cast<uint8_t>(ref.size());
                if (ref.size() == 32) continue;  // loaded when a walk needs it
                auto c = node_from_rlp(ref);
                if (!c) return tl::unexpected{c.error()};
                kids.nodes[i] = std::move(*c);
            }
            break;
    }
    n->dirty = false;
    if (hash != nullptr && rlp.size() >= 32) {  // a short root keeps its embedded form, as before
        n->ref_len = 32;
        std::memcpy(n->ref, hash, 32);
    } else {
        n->ref_len = static_cast<uint8_t>(make_reference(rlp, n->ref));
    }
    return n;
}

// Loads the node with hash `hash` from the store.
Result<NodePtr> load(NodeStore* store, const uint8_t* hash, std::size_t& loaded) {
    if (store == nullptr) return tl::unexpected{TrieError::kMissingNode};
    Hash h;
    std::memcpy(h.data(), hash, 32);
    thread_local Bytes scratch;  // reused: node_from_rlp copies out what it keeps
    ByteView rlp;
    auto found = store->view_node(h, scratch, rlp);
    if (!found) return tl::unexpected{TrieError::kStoreError};
    if (!*found) return tl::unexpected{TrieError::kMissingNode};
    auto node = node_from_rlp(rlp, hash);
    if (!node) return tl::unexpected{node.error()};
    ++loaded;
    return node;
}

// Loads `n` from the store if it is only a reference.
Result<void> resolve(NodeStore* store, NodePtr& n, std::size_t& loaded) {
    if (!n || !n->is_ref) return {};
    auto node = load(store, n->ref, loaded);
    if (!node) return tl::unexpected{node.error()};
    n = std::move(*node);
    return {};
}

// Slot i of a branch, its child loaded (or null if the slot is empty).
Result<NodePtr*> child(NodeStore* store, Children& kids, std::size_t i, std::size_t& loaded) {
    NodePtr& c = kids.nodes[i];
    if (!c && kids.ref_len[i] == 32) {
        auto node = load(store, kids.refs[i].data(), loaded);
        if (!node) return tl::unexpected{node.error()};
        c = std::move(*node);
    } else if (auto r = resolve(store, c, loaded); !r) {
        return tl::unexpected{r.error()};
    }
    return &c;
}

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
            if (cp == key.size()) {
                branch->value = Bytes{value};
            } else {
                branch->kids->set(key[cp], make_leaf(key.substr(cp + 1), value));
            }
            n = cp > 0 ? make_extension(key.substr(0, cp), std::move(branch)) : std::move(branch);
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
            if (cp == key.size()) {
                branch->value = Bytes{value};
            } else {
                branch->kids->set(key[cp], make_leaf(key.substr(cp + 1), value));
            }
            n = cp > 0 ? make_extension(key.substr(0, cp), std::move(branch)) : std::move(branch);
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

// Brings a node's fields into the cache (a TrieNode spans two or three cache lines).
void prefetch_node_memory(const TNode* n) noexcept {
    const auto* p = reinterpret_cast<const char*>(n);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    __builtin_prefetch(p);
    __builtin_prefetch(p + sizeof(TNode) - 1);
}

// Brings what encoding or matching a node reads beyond the node itself into the cache: a branch's
// child references (not its child pointers: a dirty child passed its reference up, see DirtyHasher),
// a leaf's value and a long path (both on the heap). `n` is in cache.
void prefetch_node_contents(const TNode& n) noexcept {
    if (n.kind == NodeKind::kBranch) {
        const Children& kids = *n.kids;
        const auto* p =
            reinterpret_cast<const char*>(&kids.refs);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
        const auto* end =
            reinterpret_cast<const char*>(&kids.stale + 1);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
        for (; p < end; p += 64) __builtin_prefetch(p);
        __builtin_prefetch(end - 1);
        return;
    }
    __builtin_prefetch(n.path.data());
    if (n.kind == NodeKind::kLeaf) __builtin_prefetch(n.value.data());
}

void encode_into(Bytes& rlp, const TNode& n);

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

// Appends the RLP of `n` to `rlp`; its children's references must be up to date.
void encode_into(Bytes& rlp, const TNode& n) {
    switch (n.kind) {
        case NodeKind::kLeaf:
            encode_leaf(rlp, n.path, n.value);
            break;
        case NodeKind::kExtension:
            encode_extension(rlp, n.path, n.child->reference());
            break;
        case NodeKind::kBranch: {
            std::array<ByteView, 16> refs{};
            for (std::size_t i = 0; i < 16; ++i) refs[i] = n.kids->ref(i);
            encode_branch(rlp, refs, n.value);
            break;
        }
    }
}

Bytes encode_node(const TNode& n) {
    Bytes rlp;
    encode_into(rlp, n);
    return rlp;
}

// The nibbles of a key, on the stack for keys of up to 64 bytes (every hashed key), else on the heap.
class KeyPath {
  public:
    explicit KeyPath(ByteView key) {
        if (key.size() <= sizeof(small_) / 2) {
            unpack_nibbles(key, small_);
            view_ = {small_, key.size() * 2};
        } else {
            large_ = unpack_nibbles(key);
            view_ = large_;
        }
    }
    KeyPath(const KeyPath&) = delete;
    KeyPath& operator=(const KeyPath&) = delete;
    ByteView view() const noexcept { return view_; }

  private:
    uint8_t small_[128];  // NOLINT(modernize-avoid-c-arrays)
    Nibbles large_;
    ByteView view_;
};

// In-order walk. `path` holds the nibbles from the root to `n`. `visit` returns false to stop.
// `direction` +1 visits increasing keys, -1 decreasing. `skip(path)` prunes subtrees.
struct Walk {
    NodeStore* store;
    std::size_t& loaded;
    int direction;
    std::function<bool(ByteView prefix)> skip;                        // true: no wanted key below
    std::function<bool(ByteView key_nibbles, ByteView value)> visit;  // false: stop
    bool stopped{false};

    Result<void> run(NodePtr& n, Nibbles& path) {
        if (!n || stopped) return {};
        if (auto r = resolve(store, n, loaded); !r) return r;
        const std::size_t base = path.size();
        TNode& node = *n;
        if (node.kind != NodeKind::kBranch) path += node.path;
        if (skip(path)) {
            path.resize(base);
            return {};
        }
        switch (node.kind) {
            case NodeKind::kLeaf:
                if (!visit(path, node.value)) stopped = true;
                break;
            case NodeKind::kExtension:
                if (auto r = run(node.child, path); !r) return r;
                break;
            case NodeKind::kBranch: {
                if (direction > 0 && !node.value.empty() && !visit(path, node.value)) stopped = true;
                for (int k = 0; k < 16 && !stopped; ++k) {
                    const auto i = static_cast<uint8_t>(direction > 0 ? k : 15 - k);
                    if (!node.kids->has(i)) continue;
                    auto c = child(store, *node.kids, i, loaded);
                    if (!c) return tl::unexpected{c.error()};
                    path.push_back(i);
                    if (auto r = run(**c, path); !r) return r;
                    path.pop_back();
                }
                if (direction < 0 && !stopped && !node.value.empty() && !visit(path, node.value)) stopped = true;
                break;
            }
        }
        path.resize(base);
        return {};
    }
};

// One path of Trie::prefetch. Each step makes one access that the previous step prefetched and
// prefetches the next, so a round over all paths overlaps their cache misses.
struct PrefetchCursor {
    enum class Stage : uint8_t {
        kNode,       // visit the node in *slot (prefetched)
        kKid,        // read slot `kid` of `kids` (prefetched)
        kFetchNode,  // *slot is a reference whose store lookup was hinted: hint its RLP
        kFetchKid,   // slot `kid` of `kids` is known by hash only, its lookup hinted: hint its RLP
        kLoadNode,   // *slot is a reference whose RLP was hinted: load it
        kLoadKid,    // slot `kid` of `kids` is known by hash only, its RLP hinted: load it
    };
    NodeStore* store;
    std::size_t* loaded;
    NodePtr* slot;
    Children* kids;
    const uint8_t* rest;  // the key's nibbles below the node
    std::size_t rest_len;
    uint8_t kid;
    Stage stage;

    // One step; false when the path ends (or cannot be followed: the walk that needs it will tell).
    bool step() {
        switch (stage) {
            case Stage::kNode:
                return visit();
            case Stage::kKid: {
                NodePtr& c = kids->nodes[kid];
                if (c) {
                    slot = &c;
                    prefetch_node_memory(c.get());
                    stage = Stage::kNode;
                    return true;
                }
                if (kids->ref_len[kid] != 32 || store == nullptr) return false;
                store->prefetch_node(to_hash(kids->ref(kid)));
                stage = Stage::kFetchKid;
                return true;
            }
            case Stage::kFetchNode:
                if (!slot->get()->is_ref) return visit();  // another path loaded it
                store->prefetch_node_rlp(to_hash(slot->get()->reference()));
                stage = Stage::kLoadNode;
                return true;
            case Stage::kFetchKid:
                if (kids->nodes[kid]) {  // another path loaded it
                    stage = Stage::kKid;
                    return step();
                }
                store->prefetch_node_rlp(to_hash(kids->ref(kid)));
                stage = Stage::kLoadKid;
                return true;
            case Stage::kLoadNode:
                if (!resolve(store, *slot, *loaded)) return false;
                return visit();
            case Stage::kLoadKid: {
                auto c = child(store, *kids, kid, *loaded);  // another path may have loaded it
                if (!c) return false;
                slot = *c;
                return visit();
            }
        }
        return false;
    }

    bool visit() {
        TNode* n = slot->get();
        if (n == nullptr) return false;
        if (n->is_ref) {
            if (store == nullptr) return false;
            store->prefetch_node(to_hash(n->reference()));
            stage = Stage::kFetchNode;
            return true;
        }
        switch (n->kind) {
            case NodeKind::kLeaf:
                prefetch_node_contents(*n);  // the get that follows compares the path, copies the value
                return false;
            case NodeKind::kExtension:
                if (rest_len < n->path.size() || ByteView{rest, n->path.size()} != ByteView{n->path}) return false;
                rest += n->path.size();
                rest_len -= n->path.size();
                slot = &n->child;
                prefetch_node_memory(n->child.get());
                stage = Stage::kNode;
                return true;
            case NodeKind::kBranch:
                if (rest_len == 0) return false;
                kids = n->kids.get();
                kid = *rest++;
                --rest_len;
                __builtin_prefetch(&kids->nodes[kid]);
                __builtin_prefetch(&kids->refs[kid]);
                __builtin_prefetch(&kids->ref_len[kid]);
                stage = Stage::kKid;
                return true;
        }
        return false;
    }
};

}  // namespace

namespace {
// Steps every cursor, a round at a time, until all their paths end.
void run_prefetch(std::vector<PrefetchCursor>& active) {
    while (!active.empty()) {
        std::size_t kept = 0;
        for (PrefetchCursor& c : active) {
            if (c.step()) active[kept++] = c;
        }
        active.resize(kept);
    }
}
}  // namespace

void Trie::prefetch(std::span<const KeyOf> keys) {
    std::size_t nibbles = 0;
    for (const KeyOf& k : keys) nibbles += 2 * k.key.size();
    Bytes buffer(nibbles, 0);
    std::vector<PrefetchCursor> active;
    active.reserve(keys.size());
    std::size_t at = 0;
    for (const KeyOf& k : keys) {
        uint8_t* path = buffer.data() + at;
        unpack_nibbles(k.key, path);
        at += 2 * k.key.size();
        active.push_back({k.trie->store_, &k.trie->loaded_, &k.trie->root_, nullptr, path, 2 * k.key.size(), 0,
                          PrefetchCursor::Stage::kNode});
    }
    run_prefetch(active);
}

Trie::Trie(NodeStore* store, const Hash& root) : store_{store} {
    if (root != kEmptyRoot) root_ = make_ref(root.data());
}
Trie::~Trie() = default;
Trie::Trie(Trie&&) noexcept = default;
Trie& Trie::operator=(Trie&&) noexcept = default;

tl::expected<std::optional<Bytes>, TrieError> Trie::get(ByteView key) {
    const KeyPath path{key};
    ByteView rest = path.view();
    NodePtr* cur = &root_;
    while (*cur) {
        if (auto r = resolve(store_, *cur, loaded_); !r) return tl::unexpected{r.error()};
        TNode& n = **cur;
        switch (n.kind) {
            case NodeKind::kLeaf:
                if (ByteView{n.path} == rest) return std::optional<Bytes>{n.value};
                return std::optional<Bytes>{};
            case NodeKind::kExtension:
                if (rest.substr(0, n.path.size()) != ByteView{n.path}) return std::optional<Bytes>{};
                rest.remove_prefix(n.path.size());
                cur = &n.child;
                break;
            case NodeKind::kBranch:
                if (rest.empty()) {
                    if (n.value.empty()) return std::optional<Bytes>{};
                    return std::optional<Bytes>{n.value};
                }
                auto c = child(store_, *n.kids, rest[0], loaded_);
                if (!c) return tl::unexpected{c.error()};
                cur = *c;
                rest.remove_prefix(1);
                break;
        }
    }
    return std::optional<Bytes>{};
}

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

tl::expected<std::vector<Bytes>, TrieError> Trie::prove(ByteView key) {
    const Bytes keys[1] = {Bytes{key}};
    return prove(keys);
}

tl::expected<std::vector<Bytes>, TrieError> Trie::prove(std::span<const Bytes> keys) {
    root();
    std::vector<Bytes> proof;
    std::unordered_set<const TNode*> seen;
    for (const Bytes& key : keys) {
        const Nibbles path = unpack_nibbles(key);
        ByteView rest = path;
        NodePtr* cur = &root_;
        bool is_root = true;
        while (*cur) {
            if (auto r = resolve(store_, *cur, loaded_); !r) return tl::unexpected{r.error()};
            TNode& n = **cur;
            // Embedded nodes travel inside their parent; the root is always given.
            if ((is_root || n.ref_len == 32) && seen.insert(&n).second) proof.push_back(encode_node(n));
            is_root = false;
            if (n.kind == NodeKind::kLeaf) break;
            if (n.kind == NodeKind::kExtension) {
                if (rest.substr(0, n.path.size()) != ByteView{n.path}) break;
                rest.remove_prefix(n.path.size());
                cur = &n.child;
            } else {
                if (rest.empty()) break;
                auto c = child(store_, *n.kids, rest[0], loaded_);
                if (!c) return tl::unexpected{c.error()};
                cur = *c;
                rest.remove_prefix(1);
            }
        }
    }
    return proof;
}

tl::expected<void, TrieError> Trie::for_each(const std::function<void(ByteView key, ByteView value)>& visit) {
    Walk w{store_, loaded_, +1, [](ByteView) { return false; },
           [&](ByteView key_nibbles, ByteView value) {
               visit(pack_nibbles(key_nibbles), value);
               return true;
           }};
    Nibbles path;
    return w.run(root_, path);
}

tl::expected<void, TrieError> Trie::for_each_from(ByteView from,
                                                  const std::function<bool(ByteView key, ByteView value)>& visit) {
    const Nibbles target = unpack_nibbles(from);
    Walk w{store_, loaded_, +1,
           [&](ByteView prefix) {
               const ByteView t = ByteView{target}.substr(0, prefix.size());
               return prefix.compare(t) < 0;
           },
           [&](ByteView key_nibbles, ByteView value) {
               if (key_nibbles.compare(target) < 0) return true;
               return visit(pack_nibbles(key_nibbles), value);
           }};
    Nibbles path;
    return w.run(root_, path);
}

tl::expected<std::optional<Bytes>, TrieError> Trie::next_key(ByteView key) {
    const Nibbles target = unpack_nibbles(key);
    std::optional<Bytes> found;
    // Skip a subtree when every key in it is <= target: its prefix sorts before target's prefix of
    // the same length, or it is a whole-key match of target (its keys below are longer, so greater).
    Walk w{store_, loaded_, +1,
           [&](ByteView prefix) {
               const ByteView t = ByteView{target}.substr(0, prefix.size());
               return prefix.compare(t) < 0;
           },
           [&](ByteView key_nibbles, ByteView) {
               if (key_nibbles.compare(target) <= 0) return true;
               found = pack_nibbles(key_nibbles);
               return false;
           }};
    Nibbles path;
    if (auto r = w.run(root_, path); !r) return tl::unexpected{r.error()};
    return found;
}

tl::expected<std::optional<Bytes>, TrieError> Trie::prev_key(ByteView key) {
    const Nibbles target = unpack_nibbles(key);
    std::optional<Bytes> found;
    Walk w{store_, loaded_, -1,
           [&](ByteView prefix) {
               const ByteView t = ByteView{target}.substr(0, prefix.size());
               return prefix.compare(t) > 0;
           },
           [&](ByteView key_nibbles, ByteView) {
               if (key_nibbles.compare(target) >= 0) return true;
               found = pack_nibbles(key_nibbles);
               return false;
           }};
    Nibbles path;
    if (auto r = w.run(root_, path); !r) return tl::unexpected{r.error()};
    return found;
}

}  // namespace carousel::trie
