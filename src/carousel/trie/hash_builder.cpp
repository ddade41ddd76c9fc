// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// The stack algorithm. Items (leaves and subtree references) arrive in key order. The item last
// added ("prev") is not placed until the next one arrives, because where it hangs depends on the
// longest prefix it shares with both neighbours: it hangs in the branch at depth
// max(lcp(before, prev), lcp(prev, next)), in slot prev[depth]. Placing it closes every open
// branch deeper than lcp(prev, next): nothing that follows can reach them.
//
// Closed nodes are not hashed at once. Each node lives in a pool slot until its reference is known;
// it is "ready" when it is closed and all its children's references are in. A ready node is
// encoded; if its RLP is shorter than 32 bytes it is embedded in its parent right away, otherwise it
// waits in a queue with others of the same Keccak block count, and every eight of them go through
// the multi-buffer kernel together. The live pool is bounded: open branches (one per depth) plus
// the nodes waiting in the queues and their ancestors.
//
// Paths are kept packed (two nibbles a byte, as keys arrive): a leaf's hex-prefix path is then a
// flag byte and a memcpy of the key's tail, which is most of what a leaf costs besides its hash.
#include "hash_builder.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <vector>

#include <carousel/core/assert.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/core/nibbles.hpp>
#include <carousel/core/rlp.hpp>

#include "node.hpp"

namespace carousel::trie {
namespace {

constexpr uint32_t kNone = 0xffffffff;
constexpr std::size_t kMaxNibbles = 64;  // keys of at most 32 bytes
constexpr std::size_t kQueues = 6;       // block counts 1..5, and 6+ share the last queue
constexpr std::size_t kMaxBatch = 8;
constexpr std::size_t kPoolFlushThreshold = 4096;

inline uint8_t nibble_at(const uint8_t* packed, std::size_t i) noexcept {
    return (i % 2 == 0) ? packed[i / 2] >> 4 : packed[i / 2] & 0x0f;
}

// Longest common prefix, in nibbles, of two packed paths of at least `max_nibbles` nibbles each.
inline std::size_t common_nibbles(const uint8_t* a, const uint8_t* b, std::size_t max_nibbles) noexcept {
    const std::size_t bytes = (max_nibbles + 1) / 2;
    std::size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
        uint64_t x, y;
        std::memcpy(&x, a + i, 8);
        std::memcpy(&y, b + i, 8);
        if (x != y) {
            const auto byte = static_cast<std::size_t>(std::countr_zero(x ^ y)) / 8;  // little-endian load
            i += byte;
            const std::size_t n = 2 * i + (((a[i] ^ b[i]) & 0xf0) == 0 ? 1 : 0);
            return std::min(n, max_nibbles);
        }
    }
    for (; i < bytes; ++i) {
        if (a[i] != b[i]) {
            const std::size_t n = 2 * i + (((a[i] ^ b[i]) & 0xf0) == 0 ? 1 : 0);
            return std::min(n, max_nibbles);
        }
    }
    return max_nibbles;
}

struct PendingNode {
    NodeKind kind{NodeKind::kLeaf};
    bool closed{false};
    uint8_t depth{0};        // nibbles from the root to this node
    uint8_t parent_slot{0};  // slot in the parent branch (0 for an extension's child)
    uint32_t parent{kNone};  // pool index of the parent; kNone for the root
    uint32_t pending{0};     // children whose references are not yet known
    uint8_t path_begin{0};   // extension: its partial path is key nibbles [path_begin, path_end)
    uint8_t path_end{0};
    uint8_t key[kMaxNibbles / 2]{};  // packed key through this node (first `depth` nibbles matter)
    std::array<uint8_t, 16> child_len{};
    uint8_t child_ref[16][32]{};
    // The encoding, once ready, is rlp[rlp_begin, rlp_begin + rlp_size). A leaf's value is copied in
    // when the leaf is added, right-aligned after kLeafHeadroom bytes; its header and path are
    // written in front of it once its depth is known.
    Bytes rlp;
    std::size_t rlp_begin{0};
    std::size_t rlp_size{0};

    ByteView encoding() const noexcept { return {rlp.data() + rlp_begin, rlp_size}; }
};

// Room before a leaf's value for the list header (at most 3 bytes for values under 64 KiB, 9 in
// general), the path item (at most 34 bytes) and the value's own header (at most 9 bytes).
constexpr std::size_t kLeafHeadroom = 9 + 34 + 9;

// Sets `b` to `n` bytes without clearing what it already holds (resize only fills growth).
inline void set_size(Bytes& b, std::size_t n) { b.resize(n); }

// Appends the RLP of a branch with the given child references and no value.
void encode_branch_node(Bytes& out, PendingNode& n) {
    std::size_t payload = 1;  // the empty value
    for (std::size_t s = 0; s < 16; ++s) {
        const std::size_t len = n.child_len[s];
        payload += len == 32 ? 33 : (len == 0 ? 1 : len);
    }
    n.rlp_begin = 0;
    n.rlp_size = rlp::header_length(payload) + payload;
    set_size(out, n.rlp_size);
    uint8_t* p = out.data();
    p += rlp::write_header(p, true, payload);
    for (std::size_t s = 0; s < 16; ++s) {
        const std::size_t len = n.child_len[s];
        if (len == 32) {
            *p++ = 0xa0;
            std::memcpy(p, n.child_ref[s], 32);
            p += 32;
        } else if (len == 0) {
            *p++ = 0x80;
        } else {
            std::memcpy(p, n.child_ref[s], len);
            p += len;
        }
    }
    *p = 0x80;
}

}  // namespace

struct HashBuilder::Impl {
    explicit Impl(NodeCallback cb) : on_node(std::move(cb)) {}

    NodeCallback on_node;
    std::vector<PendingNode> pool;
    std::vector<uint32_t> free_list;
    std::vector<uint32_t> stack;  // open branches, increasing depth
    std::array<std::vector<uint32_t>, kQueues> queues;

    // The item waiting to be placed: a leaf (full key) or a subtree reference (shorter path).
    bool have_prev{false};
    bool prev_is_leaf{false};
    int prev_cp{-1};
    std::size_t prev_len{0};  // nibbles
    uint8_t prev_key[kMaxNibbles / 2]{};
    Bytes prev_payload;         // subtree reference
    uint32_t prev_leaf{kNone};  // a leaf's pool node, holding its value
    std::size_t key_nibbles{0};
    uint64_t count{0};

    Hash root_hash{};
    bool root_done{false};

    uint32_t alloc(NodeKind kind, std::size_t depth) {
        uint32_t i;
        if (!free_list.empty()) {
            i = free_list.back();
            free_list.pop_back();
        } else {
            i = static_cast<uint32_t>(pool.size());
            pool.emplace_back();
        }
        PendingNode& n = pool[i];
        n.kind = kind;
        n.closed = false;
        n.depth = static_cast<uint8_t>(depth);
        n.parent = kNone;
        n.parent_slot = 0;
        n.pending = 0;
        if (kind != NodeKind::kLeaf) n.child_len.fill(0);
        if (on_node) std::memcpy(n.key, prev_key, sizeof n.key);
        return i;
    }

    void attach(uint32_t child, uint32_t parent, uint8_t slot) {
        pool[child].parent = parent;
        pool[child].parent_slot = slot;
        if (parent != kNone) ++pool[parent].pending;
    }

    // Records `ref` as the child reference of `child`'s parent and frees `child`.
    void resolve(uint32_t child, const uint8_t* ref, std::size_t len) {
        const uint32_t parent = pool[child].parent;
        const uint8_t slot = pool[child].parent_slot;
        free_list.push_back(child);
        PendingNode& p = pool[parent];
        if (len == 32) {
            std::memcpy(p.child_ref[slot], ref, 32);  // the common case, as a fixed-size copy
        } else {
            std::memcpy(p.child_ref[slot], ref, len);
        }
        p.child_len[slot] = static_cast<uint8_t>(len);
        if (--p.pending == 0 && p.closed) make_ready(parent);
    }

    // Encodes an extension whose path is nibbles [begin, end) of `key`.
    static void encode_extension_node(PendingNode& n) {
        uint8_t nibbles[kMaxNibbles];
        const std::size_t len = n.path_end - n.path_begin;
        for (std::size_t i = 0; i < len; ++i) nibbles[i] = nibble_at(n.key, n.path_begin + i);
        n.rlp.clear();
        encode_extension(n.rlp, {nibbles, len}, {n.child_ref[0], n.child_len[0]});
        n.rlp_begin = 0;
        n.rlp_size = n.rlp.size();
    }

    void make_ready(uint32_t i) {
        PendingNode& n = pool[i];
        if (n.kind == NodeKind::kBranch) {
            encode_branch_node(n.rlp, n);
        } else if (n.kind == NodeKind::kExtension) {
            encode_extension_node(n);
        }  // a leaf was encoded when placed
        if (n.rlp_size < 32 && n.parent != kNone) {
            // Embedded in the parent: no hash. Copy out first, resolve() frees the slot.
            uint8_t buf[32];
            const std::size_t len = n.rlp_size;
            std::memcpy(buf, n.encoding().data(), len);
            resolve(i, buf, len);
            return;
        }
        auto& q = queues[std::min(keccak_blocks(n.rlp_size), kQueues) - 1];
        q.push_back(i);
        if (q.size() >= kMaxBatch) hash_queue(q, /*drain=*/false);
    }

    // Hashes full batches from `q` (and, when `drain`, the remainder too). Resolving a batch can
    // make parents ready and refill the queues, recursively.
    void hash_queue(std::vector<uint32_t>& q, bool drain) {
        uint32_t batch[kMaxBatch];
        while (q.size() >= (drain ? 1 : kMaxBatch)) {
            const std::size_t n = std::min(q.size(), kMaxBatch);
            std::copy(q.end() - static_cast<std::ptrdiff_t>(n), q.end(), batch);
            q.resize(q.size() - n);
            std::array<ByteView, kMaxBatch> in;
            std::array<Hash, kMaxBatch> out;
            std::array<uint8_t*, kMaxBatch> out_ptr;
            for (std::size_t k = 0; k < n; ++k) {
                in[k] = pool[batch[k]].encoding();
                out_ptr[k] = out[k].data();
            }
            keccak256_batch({in.data(), n}, {out_ptr.data(), n});
            for (std::size_t k = 0; k < n; ++k) {
                const PendingNode& node = pool[batch[k]];
                if (on_node) report(node, out[k]);
                if (node.parent == kNone) {
                    root_hash = out[k];
                    root_done = true;
                    free_list.push_back(batch[k]);
                } else {
                    resolve(batch[k], out[k].data(), 32);
                }
            }
        }
    }

    void report(const PendingNode& node, const Hash& hash) const {
        uint8_t path[kMaxNibbles];
        for (std::size_t i = 0; i < node.depth; ++i) path[i] = nibble_at(node.key, i);
        on_node({path, node.depth}, hash, node.encoding());
    }

    void flush_all() {
        bool any = true;
        while (any) {
            any = false;
            for (auto& q : queues) {
                if (!q.empty()) {
                    hash_queue(q, /*drain=*/true);
                    any = true;
                }
            }
        }
    }

    void push_branch(std::size_t depth) { stack.push_back(alloc(NodeKind::kBranch, depth)); }

    // Places the waiting item, given `cp`: its common prefix with the next item, or -1 at the end.
    void place_prev(int cp) {
        const int d = std::max(prev_cp, cp);
        if (d < 0) {
            // The only item: it is the root (a leaf with the whole key, or an extension to the subtree).
            place_node_at(kNone, 0, 0);
            return;
        }
        const auto depth = static_cast<std::size_t>(d);
        if (stack.empty() || pool[stack.back()].depth < depth) push_branch(depth);
        place_node_at(stack.back(), nibble_at(prev_key, depth), depth + 1);
        // Close the branches the next item cannot reach.
        while (!stack.empty() && static_cast<int>(pool[stack.back()].depth) > cp) {
            const uint32_t b = stack.back();
            stack.pop_back();
            const std::size_t bdepth = pool[b].depth;
            const int pd = std::max(stack.empty() ? -1 : static_cast<int>(pool[stack.back()].depth), cp);
            uint32_t parent = kNone;
            uint8_t slot = 0;
            std::size_t child_depth = 0;  // where the node hanging in `parent` starts
            if (pd >= 0) {
                const auto pdepth = static_cast<std::size_t>(pd);
                if (stack.empty() || pool[stack.back()].depth < pdepth) push_branch(pdepth);
                parent = stack.back();
                slot = nibble_at(prev_key, pdepth);
                child_depth = pdepth + 1;
            }
            if (bdepth > child_depth) {
                const uint32_t e = alloc(NodeKind::kExtension, child_depth);
                PendingNode& ext = pool[e];
                ext.path_begin = static_cast<uint8_t>(child_depth);
                ext.path_end = static_cast<uint8_t>(bdepth);
                std::memcpy(ext.key, prev_key, sizeof ext.key);
                attach(e, parent, slot);
                attach(b, e, 0);
                ext.closed = true;
            } else {
                attach(b, parent, slot);
            }
            pool[b].closed = true;
            if (pool[b].pending == 0) make_ready(b);
        }
    }

    // Completes the waiting leaf's encoding, in front of its value, for a node starting at nibble
    // `depth` of its key.
    void encode_prev_leaf(PendingNode& leaf, std::size_t depth) const {
        // Hex-prefix of a key's tail: odd tails (odd start, as keys have an even nibble count) put their
        // first nibble in the flag byte; either way the rest is whole bytes of the packed key.
        const bool odd = depth % 2 == 1;
        const std::size_t tail_from = (depth + 1) / 2;
        const std::size_t tail_len = prev_len / 2 - tail_from;
        const std::size_t hp_len = 1 + tail_len;
        const uint8_t flag = odd ? static_cast<uint8_t>(0x30 | (prev_key[depth / 2] & 0x0f)) : uint8_t{0x20};
        const std::size_t hp_item = (hp_len == 1 && flag < 0x80) ? 1 : 1 + hp_len;
        const ByteView value{leaf.rlp.data() + kLeafHeadroom, leaf.rlp.size() - kLeafHeadroom};
        const bool value_bare = value.size() == 1 && value[0] < 0x80;
        const std::size_t value_header = value_bare ? 0 : rlp::header_length(value.size());
        const std::size_t payload = hp_item + value_header + value.size();
        const std::size_t list_header = rlp::header_length(payload);
        leaf.rlp_begin = kLeafHeadroom - value_header - hp_item - list_header;
        leaf.rlp_size = list_header + payload;
        uint8_t* p = leaf.rlp.data() + leaf.rlp_begin;
        p += rlp::write_header(p, true, payload);
        if (hp_item != 1) *p++ = static_cast<uint8_t>(0x80 + hp_len);
        *p++ = flag;
        std::memcpy(p, prev_key + tail_from, tail_len);
        p += tail_len;
        if (!value_bare) rlp::write_header(p, false, value.size());
    }

    // Places the waiting item as a child of `parent` in `slot`; its own node starts at `depth`.
    void place_node_at(uint32_t parent, uint8_t slot, std::size_t depth) {
        const std::size_t rest = prev_len - depth;
        if (prev_is_leaf) {
            const uint32_t l = prev_leaf;
            PendingNode& leaf = pool[l];
            leaf.depth = static_cast<uint8_t>(depth);
            if (on_node) std::memcpy(leaf.key, prev_key, sizeof leaf.key);
            encode_prev_leaf(leaf, depth);
            leaf.closed = true;
            attach(l, parent, slot);
            make_ready(l);
        } else if (rest == 0 && parent != kNone) {
            PendingNode& p = pool[parent];
            std::memcpy(p.child_ref[slot], prev_payload.data(), prev_payload.size());
            p.child_len[slot] = static_cast<uint8_t>(prev_payload.size());
        } else {
            // A subtree below a path no sibling shares: an extension leads to it.
            const uint32_t e = alloc(NodeKind::kExtension, depth);
            PendingNode& ext = pool[e];
            ext.path_begin = static_cast<uint8_t>(depth);
            ext.path_end = static_cast<uint8_t>(prev_len);
            std::memcpy(ext.key, prev_key, sizeof ext.key);
            std::memcpy(ext.child_ref[0], prev_payload.data(), prev_payload.size());
            ext.child_len[0] = static_cast<uint8_t>(prev_payload.size());
            ext.closed = true;
            attach(e, parent, slot);
            make_ready(e);
        }
    }

    // Adds an item whose path is the first `nibbles` nibbles of `packed`.
    void add(const uint8_t* packed, std::size_t nibbles, bool is_leaf, ByteView payload) {
        int cp = -1;
        if (have_prev) {
            const std::size_t lcp = common_nibbles(prev_key, packed, std::min(prev_len, nibbles));
            CAROUSEL_ASSERT(lcp < prev_len && lcp < nibbles, "no path may be a prefix of another");
            CAROUSEL_ASSERT(nibble_at(packed, lcp) > nibble_at(prev_key, lcp), "keys must be strictly increasing");
            cp = static_cast<int>(lcp);
            place_prev(cp);
            if (pool.size() - free_list.size() > kPoolFlushThreshold) flush_all();
        }
        have_prev = true;
        prev_cp = cp;
        prev_is_leaf = is_leaf;
        prev_len = nibbles;
        std::memset(prev_key, 0, sizeof prev_key);
        std::memcpy(prev_key, packed, (nibbles + 1) / 2);
        if (is_leaf) {
            prev_leaf = alloc(NodeKind::kLeaf, 0);
            Bytes& buf = pool[prev_leaf].rlp;
            set_size(buf, kLeafHeadroom + payload.size());
            std::memcpy(buf.data() + kLeafHeadroom, payload.data(), payload.size());
        } else {
            prev_payload.assign(payload);
        }
        ++count;
    }

    Hash finish() {
        Hash result;
        if (!have_prev) {
            result = kEmptyRootHash();
        } else {
            place_prev(-1);
            flush_all();
            CAROUSEL_ASSERT(root_done, "flushing the last item builds the root");
            result = root_hash;
        }
        // Reset for reuse (the pool keeps its capacity).
        have_prev = false;
        prev_cp = -1;
        key_nibbles = 0;
        count = 0;
        root_done = false;
        stack.clear();
        free_list.clear();
        pool.clear();
        return result;
    }

    static Hash kEmptyRootHash() {
        static constexpr uint8_t kRlpEmpty = 0x80;
        return keccak256(ByteView{&kRlpEmpty, 1});
    }
};

HashBuilder::HashBuilder(NodeCallback on_node) : impl_{std::make_unique<Impl>(std::move(on_node))} {}
HashBuilder::~HashBuilder() = default;

void HashBuilder::add_leaf(ByteView key, ByteView value) {
    CAROUSEL_ASSERT(key.size() * 2 <= kMaxNibbles, "a key of at most 32 bytes");
    CAROUSEL_ASSERT(impl_->key_nibbles == 0 || impl_->key_nibbles == key.size() * 2,
                    "every key of a trie has the same length");
    impl_->key_nibbles = key.size() * 2;
    impl_->add(key.data(), key.size() * 2, /*is_leaf=*/true, value);
}

void HashBuilder::add_subtree(ByteView path, ByteView ref) {
    CAROUSEL_ASSERT(!path.empty() && path.size() <= kMaxNibbles && !ref.empty() && ref.size() <= 32,
                    "a subtree has a path and a reference of at most 32 bytes");
    const Bytes packed = pack_nibbles(path);
    impl_->add(packed.data(), path.size(), /*is_leaf=*/false, ref);
}

Hash HashBuilder::root() { return impl_->finish(); }

uint64_t HashBuilder::size() const noexcept { return impl_->count; }

}  // namespace carousel::trie
