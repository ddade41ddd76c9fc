// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "trie_sync.hpp"

#include <algorithm>
#include <unordered_set>

#include <carousel/core/keccak.hpp>

#include "node.hpp"
#include "path_range.hpp"
#include "trie.hpp"

namespace carousel::trie {

std::string_view to_string(ChunkRejection r) noexcept {
    switch (r) {
        case ChunkRejection::kUnexpectedNode:
            return "node not referenced by any accepted node";
        case ChunkRejection::kBadNode:
            return "node does not decode";
        case ChunkRejection::kBadLeaf:
            return "leaf refused";
    }
    return "unknown rejection";
}

namespace {

// Visits the leaves and the hashed references of a node and of the nodes embedded in it.
// `on_leaf(key_nibbles, value)` returns false to stop; `on_ref(position, hash)`.
template <class OnLeaf, class OnRef>
bool walk_node(const Node& node, Nibbles& pos, OnLeaf&& on_leaf, OnRef&& on_ref) {
    const std::size_t base = pos.size();
    auto child = [&](ByteView ref) -> bool {
        if (ref.size() == 32) {
            on_ref(pos, to_hash(ref));
            return true;
        }
        auto embedded = decode_node(ref);
        if (!embedded) return false;
        return walk_node(*embedded, pos, on_leaf, on_ref);
    };
    bool ok = true;
    switch (node.kind) {
        case NodeKind::kLeaf:
            pos += node.path;
            ok = on_leaf(ByteView{pos}, node.value);
            break;
        case NodeKind::kExtension:
            pos += node.path;
            ok = pos.size() < kKeyNibbles && child(node.children[0]);
            break;
        case NodeKind::kBranch:
            if (!node.value.empty()) ok = false;  // secure tries have fixed-length keys: no branch values
            for (uint8_t i = 0; i < 16 && ok; ++i) {
                if (node.children[i].empty()) continue;
                pos.push_back(i);
                ok = pos.size() <= kKeyNibbles && child(node.children[i]);
                pos.pop_back();
            }
            break;
    }
    pos.resize(base);
    return ok;
}

}  // namespace

TrieSync::TrieSync(NodeStore& store, const Hash& root, LeafCheck check, LeafSink on_leaf, HeldSink on_held)
    : store_{store}, root_{root}, check_{std::move(check)}, on_leaf_{std::move(on_leaf)}, on_held_{std::move(on_held)} {
    if (root == kEmptyRoot) return;
    if (held(root)) {  // nothing to fetch
        if (on_held_) on_held_(root);
        return;
    }
    frontier_.emplace(Nibbles{}, root);
    wanted_[root].push_back(Nibbles{});
}

bool TrieSync::held(const Hash& hash) {
    auto read = store_.find_node(hash);
    if (read) return read->has_value();
    if (store_status_.ok()) store_status_ = read.error();
    return false;
}

tl::expected<std::size_t, ChunkRejection> TrieSync::accept(std::span<const Bytes> nodes) {
    // Phase 1: verify the whole chunk without changing anything.
    std::vector<Hash> hashes(nodes.size());
    {
        std::vector<ByteView> in(nodes.begin(), nodes.end());
        std::vector<uint8_t*> out(nodes.size());
        for (std::size_t i = 0; i < nodes.size(); ++i) out[i] = hashes[i].data();
        keccak256_batch(in, out);
    }
    std::unordered_set<Hash, HashHasher> expected_here;  // referenced by earlier nodes of the chunk
    std::vector<uint8_t> fresh(nodes.size(), 0);
    std::vector<std::optional<Node>> decoded(nodes.size());  // phase 2 expands these (views into `nodes`)
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const Hash& h = hashes[i];
        if (waiting_.count(h) != 0 || (wanted_.count(h) == 0 && expected_here.count(h) == 0 && held(h))) {
            continue;  // held already: a repeat from another server
        }
        if (wanted_.count(h) == 0 && expected_here.count(h) == 0)
            return tl::unexpected{ChunkRejection::kUnexpectedNode};
        auto node = decode_node(nodes[i]);
        if (!node) return tl::unexpected{ChunkRejection::kBadNode};
        bool leaves_ok = true;
        Nibbles pos;  // positions are not known for every node yet; the checks need only values
        const bool structure_ok = walk_node(
            *node, pos,
            [&](ByteView, ByteView value) {
                if (check_ && !check_(value)) leaves_ok = false;
                return true;
            },
            [&](const Nibbles&, const Hash& child) { expected_here.insert(child); });
        if (!structure_ok) return tl::unexpected{ChunkRejection::kBadNode};
        if (!leaves_ok) return tl::unexpected{ChunkRejection::kBadLeaf};
        fresh[i] = 1;
        decoded[i] = std::move(*node);
    }

    // Phase 2: accept in order (parents before children, so every node's positions are known).
    chunk_index_.clear();
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (fresh[i] != 0) chunk_index_.emplace_back(hashes[i], static_cast<uint32_t>(i));
    }
    std::sort(chunk_index_.begin(), chunk_index_.end());
    chunk_first_link_.assign(nodes.size(), kNotInChunk);
    chunk_links_.clear();
    chunk_hashes_ = hashes;
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        ++accepted;
        if (fresh[i] == 0) continue;
        const Hash& h = hashes[i];
        std::vector<Nibbles> positions;
        if (auto it = wanted_.find(h); it != wanted_.end()) {
            positions = std::move(it->second);
            wanted_.erase(it);
            for (const auto& p : positions) frontier_.erase(p);
        }
        for_each_chunk_link(static_cast<uint32_t>(i), [&](const ChunkLink& l) { positions.push_back(l.position); });
        if (positions.empty()) continue;  // its parent was a repeat held already; nothing wants it
        ++accepted_nodes_;
        accepted_bytes_ += nodes[i].size();
        uint32_t missing = 0;
        for (const auto& p : positions) missing += expand_node(*decoded[i], p, h, static_cast<uint32_t>(i));
        if (missing == 0) {
            complete_node(h, nodes[i]);
        } else {
            waiting_[h] = Waiting{nodes[i], missing};
        }
    }
    // A child still incomplete waits for more chunks: its parents in this chunk wait in parents_.
    for (std::size_t child = 0; child < nodes.size(); ++child) {
        if (chunk_first_link_[child] == kNotInChunk || waiting_.count(hashes[child]) == 0) continue;
        for_each_chunk_link(static_cast<uint32_t>(child),
                            [&](const ChunkLink& l) { parents_[hashes[child]].push_back(hashes[l.parent]); });
    }
    chunk_index_.clear();
    chunk_hashes_ = {};
    return accepted;
}

uint32_t TrieSync::chunk_node(const Hash& hash) const noexcept {
    auto it = std::lower_bound(chunk_index_.begin(), chunk_index_.end(), std::pair<Hash, uint32_t>{hash, 0});
    return it != chunk_index_.end() && it->first == hash ? it->second : kNotInChunk;
}

uint32_t TrieSync::expand(ByteView rlp, const Nibbles& position, const Hash& self) {
    auto node = decode_node(rlp);
    if (!node) return 0;  // verified (by hash, under another root) before
    return expand_node(*node, position, self, kNotInChunk);
}

uint32_t TrieSync::expand_node(const Node& node, const Nibbles& position, const Hash& self, uint32_t in_chunk) {
    uint32_t missing = 0;
    Nibbles pos = position;
    walk_node(
        node, pos,
        [&](ByteView key_nibbles, ByteView value) {
            if (on_leaf_ && key_nibbles.size() == kKeyNibbles) {
                std::vector<Hash> deps;
                on_leaf_(pack_nibbles(key_nibbles), value, deps);
                for (const Hash& d : deps) {
                    ++missing;
                    dependents_[d].push_back(self);
                }
            }
            return true;
        },
        [&](const Nibbles& child_pos, const Hash& child) {
            if (range_ && !intersects(child_pos, *range_)) return;  // outside the partial trie: not wanted
            if (waiting_.count(child) == 0 && wanted_.count(child) == 0 && held(child)) {
                if (on_held_) on_held_(child);
                return;
            }
            if (auto a = adopted_.find(child); a != adopted_.end()) {
                // Verified before (by hash, under another root): accept it here and now.
                const Bytes child_rlp = std::move(a->second);
                adopted_.erase(a);
                ++adopted_nodes_;
                const uint32_t child_missing = expand(child_rlp, child_pos, child);
                if (child_missing == 0) {
                    complete_node(child, child_rlp);
                    return;
                }
                waiting_[child] = Waiting{child_rlp, child_missing};
                ++missing;
                parents_[child].push_back(self);
                return;
            }
            ++missing;
            if (in_chunk != kNotInChunk) {
                if (const uint32_t at = chunk_node(child); at != kNotInChunk && at > in_chunk) {
                    chunk_links_.push_back({in_chunk, chunk_first_link_[at], child_pos});
                    chunk_first_link_[at] = static_cast<uint32_t>(chunk_links_.size() - 1);
                    return;  // it comes later in this chunk
                }
            }
            parents_[child].push_back(self);
            if (waiting_.count(child) != 0) return;  // the same subtree is being filled elsewhere
            wanted_[child].push_back(child_pos);
            frontier_.emplace(child_pos, child);
        });
    return missing;
}

void TrieSync::adopt(std::unordered_map<Hash, Bytes, HashHasher> nodes) {
    for (auto& [h, rlp] : nodes) adopted_.try_emplace(h, std::move(rlp));
}

std::unordered_map<Hash, Bytes, HashHasher> TrieSync::take_waiting() {
    std::unordered_map<Hash, Bytes, HashHasher> out;
    for (auto& [h, w] : waiting_) out.emplace(h, std::move(w.rlp));
    waiting_.clear();
    return out;
}

void TrieSync::dependency_complete(const Hash& dep) {
    auto it = dependents_.find(dep);
    if (it == dependents_.end()) return;
    const std::vector<Hash> nodes = std::move(it->second);
    dependents_.erase(it);
    for (const Hash& n : nodes) one_less_missing(n);
}

void TrieSync::one_less_missing(const Hash& hash) {
    auto w = waiting_.find(hash);
    if (w == waiting_.end()) return;
    if (--w->second.missing == 0) {
        const Bytes rlp = std::move(w->second.rlp);
        complete_node(hash, rlp);
    }
}

double TrieSync::remaining_fraction() const noexcept {
    double sum = 0;
    for (const auto& [pos, hash] : frontier_) {
        double f = 1;
        for (std::size_t i = 0; i < pos.size(); ++i) f /= 16;
        sum += f;
    }
    return sum;
}

void TrieSync::complete_node(const Hash& hash, ByteView rlp) {
    store_.put_node(hash, rlp);
    waiting_.erase(hash);
    std::vector<Hash> parents;
    if (auto it = parents_.find(hash); it != parents_.end()) {
        parents = std::move(it->second);
        parents_.erase(it);
    }
    if (const uint32_t at = chunk_node(hash); at != kNotInChunk) {
        for_each_chunk_link(at, [&](const ChunkLink& l) { parents.push_back(chunk_hashes_[l.parent]); });
    }
    for (const Hash& p : parents) one_less_missing(p);
}

}  // namespace carousel::trie
