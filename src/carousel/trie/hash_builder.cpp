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
#include "hash_builder.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <vector>

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

struct PendingNode {
    NodeKind kind{NodeKind::kLeaf};
    bool closed{false};
    uint8_t depth{0};                 // nibbles from the root to this node
    uint8_t path_len{0};              // leaf / extension: length of the partial path
    uint8_t parent_slot{0};           // slot in the parent branch (0 for an extension's child)
    uint32_t parent{kNone};           // pool index of the parent; kNone for the root
    uint32_t pending{0};              // children whose references are not yet known
    uint8_t abs_path[kMaxNibbles]{};  // nibbles from the root to this node (first `depth`)
    uint8_t path[kMaxNibbles]{};      // leaf / extension partial path
    std::array<uint8_t, 16> child_len{};
    uint8_t child_ref[16][32]{};
    Bytes value;  // leaf value
    Bytes rlp;    // the encoding, once ready
};

}  // namespace

struct HashBuilder::Impl {
    explicit Impl(NodeCallback cb) : on_node(std::move(cb)) {}

    NodeCallback on_node;
    std::vector<PendingNode> pool;
    std::vector<uint32_t> free_list;
    std::vector<uint32_t> stack;  // open branches, increasing depth
    std::array<std::vector<uint32_t>, kQueues> queues;

    // The item waiting to be placed.
    bool have_prev{false};
    bool prev_is_leaf{false};
    int prev_cp{-1};
    std::size_t prev_len{0};  // nibbles
    uint8_t prev_path[kMaxNibbles]{};
    Bytes prev_payload;  // leaf value or subtree reference
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
        n.path_len = 0;
        n.parent = kNone;
        n.parent_slot = 0;
        n.pending = 0;
        n.child_len.fill(0);
        std::memcpy(n.abs_path, prev_path, depth);
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
        std::memcpy(p.child_ref[slot], ref, len);
        p.child_len[slot] = static_cast<uint8_t>(len);
        if (--p.pending == 0 && p.closed) make_ready(parent);
    }

    void encode(PendingNode& n) {
        n.rlp.clear();
        switch (n.kind) {
            case NodeKind::kLeaf:
                encode_leaf(n.rlp, {n.path, n.path_len}, n.value);
                break;
            case NodeKind::kExtension:
                encode_extension(n.rlp, {n.path, n.path_len}, {n.child_ref[0], n.child_len[0]});
                break;
            case NodeKind::kBranch: {
                std::array<ByteView, 16> children;
                for (std::size_t s = 0; s < 16; ++s) children[s] = ByteView{n.child_ref[s], n.child_len[s]};
                encode_branch(n.rlp, children, {});
                break;
            }
        }
    }

    void make_ready(uint32_t i) {
        PendingNode& n = pool[i];
        encode(n);
        if (n.rlp.size() < 32 && n.parent != kNone) {
            // Embedded in the parent: no hash. Copy out first, resolve() frees the slot.
            uint8_t buf[32];
            const std::size_t len = n.rlp.size();
            std::memcpy(buf, n.rlp.data(), len);
            resolve(i, buf, len);
            return;
        }
        auto& q = queues[std::min(keccak_blocks(n.rlp.size()), kQueues) - 1];
        q.push_back(i);
        if (q.size() == kMaxBatch) hash_queue(q);
    }

    void hash_queue(std::vector<uint32_t>& q) {
        uint32_t batch[kMaxBatch];
        std::size_t n = 0;
        while (!q.empty()) {
            n = std::min(q.size(), kMaxBatch);
            std::copy(q.end() - static_cast<std::ptrdiff_t>(n), q.end(), batch);
            q.resize(q.size() - n);
            std::array<ByteView, kMaxBatch> in;
            std::array<Hash, kMaxBatch> out;
            std::array<uint8_t*, kMaxBatch> out_ptr;
            for (std::size_t k = 0; k < n; ++k) {
                in[k] = pool[batch[k]].rlp;
                out_ptr[k] = out[k].data();
            }
            keccak256_batch({in.data(), n}, {out_ptr.data(), n});
            for (std::size_t k = 0; k < n; ++k) {
                const PendingNode& node = pool[batch[k]];
                if (on_node) on_node({node.abs_path, node.depth}, out[k], node.rlp);
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

    void flush_all() {
        bool any = true;
        while (any) {
            any = false;
            for (auto& q : queues) {
                if (!q.empty()) {
                    hash_queue(q);
                    any = true;
                }
            }
        }
    }

    uint32_t push_branch(std::size_t depth) {
        const uint32_t b = alloc(NodeKind::kBranch, depth);
        stack.push_back(b);
        return b;
    }

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
        place_node_at(stack.back(), prev_path[depth], depth + 1);
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
                slot = prev_path[pdepth];
                child_depth = pdepth + 1;
            }
            if (bdepth > child_depth) {
                const uint32_t e = alloc(NodeKind::kExtension, child_depth);
                PendingNode& ext = pool[e];
                ext.path_len = static_cast<uint8_t>(bdepth - child_depth);
                std::memcpy(ext.path, prev_path + child_depth, ext.path_len);
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

    // Places the waiting item as a child of `parent` in `slot`; its own node starts at `depth`.
    void place_node_at(uint32_t parent, uint8_t slot, std::size_t depth) {
        const std::size_t rest = prev_len - depth;
        if (prev_is_leaf) {
            const uint32_t l = alloc(NodeKind::kLeaf, depth);
            PendingNode& leaf = pool[l];
            leaf.path_len = static_cast<uint8_t>(rest);
            std::memcpy(leaf.path, prev_path + depth, rest);
            std::swap(leaf.value, prev_payload);
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
            ext.path_len = static_cast<uint8_t>(rest);
            std::memcpy(ext.path, prev_path + depth, rest);
            std::memcpy(ext.child_ref[0], prev_payload.data(), prev_payload.size());
            ext.child_len[0] = static_cast<uint8_t>(prev_payload.size());
            ext.closed = true;
            attach(e, parent, slot);
            make_ready(e);
        }
    }

    void add(ByteView path_nibbles, bool is_leaf, ByteView payload) {
        int cp = -1;
        if (have_prev) {
            const std::size_t lcp = common_prefix_length({prev_path, prev_len}, path_nibbles);
            assert(lcp < prev_len && lcp < path_nibbles.size() && "keys must increase; no path a prefix of another");
            assert(path_nibbles[lcp] > prev_path[lcp] && "keys must be strictly increasing");
            cp = static_cast<int>(lcp);
            place_prev(cp);
            if (pool.size() - free_list.size() > kPoolFlushThreshold) flush_all();
        }
        have_prev = true;
        prev_cp = cp;
        prev_is_leaf = is_leaf;
        prev_len = path_nibbles.size();
        std::memcpy(prev_path, path_nibbles.data(), prev_len);
        prev_payload.assign(payload);
        ++count;
    }

    Hash finish() {
        Hash result;
        if (!have_prev) {
            result = keccak256(ByteView{&rlp_empty, 1});
        } else {
            place_prev(-1);
            flush_all();
            assert(root_done);
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

    static constexpr uint8_t rlp_empty = 0x80;
};

HashBuilder::HashBuilder(NodeCallback on_node) : impl_{std::make_unique<Impl>(std::move(on_node))} {}
HashBuilder::~HashBuilder() = default;

void HashBuilder::add_leaf(ByteView key, ByteView value) {
    assert(key.size() * 2 <= kMaxNibbles);
    assert(impl_->key_nibbles == 0 || impl_->key_nibbles == key.size() * 2);
    impl_->key_nibbles = key.size() * 2;
    uint8_t nibbles[kMaxNibbles];
    unpack_nibbles(key, nibbles);
    impl_->add({nibbles, key.size() * 2}, /*is_leaf=*/true, value);
}

void HashBuilder::add_subtree(ByteView path, ByteView ref) {
    assert(!path.empty() && path.size() <= kMaxNibbles && !ref.empty() && ref.size() <= 32);
    impl_->add(path, /*is_leaf=*/false, ref);
}

Hash HashBuilder::root() { return impl_->finish(); }

uint64_t HashBuilder::size() const noexcept { return impl_->count; }

}  // namespace carousel::trie
