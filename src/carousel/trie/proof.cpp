// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Range proofs are checked by rebuilding the root, as go-ethereum's VerifyRangeProof does, but
// without building a partial trie: the walk down the two edge paths yields the subtrees that lie
// wholly left of `origin` or right of the last key (kept as opaque references), drops those in
// between (the leaves must rebuild them), and HashBuilder hashes the references and the leaves in
// key order. If the result is the root, the leaves are exactly the trie's leaves in the range.
#include "proof.hpp"

#include <unordered_map>

#include <carousel/core/keccak.hpp>
#include <carousel/core/nibbles.hpp>

#include "hash_builder.hpp"
#include "node.hpp"
#include "node_store.hpp"
#include "trie.hpp"

namespace carousel::trie {

std::string_view to_string(ProofError e) noexcept {
    switch (e) {
        case ProofError::kBadNode:
            return "proof node does not decode";
        case ProofError::kMissingNode:
            return "proof lacks a node on a proven path";
        case ProofError::kUnusedNode:
            return "proof carries a node off the proven paths";
        case ProofError::kDuplicateNode:
            return "proof carries a node twice";
        case ProofError::kRootMismatch:
            return "data do not hash to the root";
        case ProofError::kKeysNotIncreasing:
            return "keys not strictly increasing";
        case ProofError::kKeyOutOfRange:
            return "key below the range origin";
        case ProofError::kBadKeyLength:
            return "key of the wrong length";
        case ProofError::kEmptyValue:
            return "empty value";
        case ProofError::kLengthMismatch:
            return "keys and values differ in number";
        case ProofError::kBranchValue:
            return "branch value in a fixed-length-key trie";
        case ProofError::kTooLarge:
            return "proof or range too large";
    }
    return "unknown proof error";
}

namespace {

template <class T>
using Result = tl::expected<T, ProofError>;

constexpr std::size_t kKeyNibbles = 64;

// The proof's nodes by hash, and which of them a walk has used.
class ProofDb {
  public:
    static Result<ProofDb> build(std::span<const Bytes> proof) {
        if (proof.size() > kMaxProofNodes) return tl::unexpected{ProofError::kTooLarge};
        ProofDb db;
        db.nodes_ = proof;
        db.used_.assign(proof.size(), 0);
        std::vector<Hash> hashes(proof.size());
        std::vector<ByteView> in(proof.size());
        std::vector<uint8_t*> out(proof.size());
        for (std::size_t i = 0; i < proof.size(); ++i) {
            in[i] = proof[i];
            out[i] = hashes[i].data();
        }
        keccak256_batch(in, out);
        db.index_.reserve(proof.size());
        for (std::size_t i = 0; i < proof.size(); ++i) {
            if (!db.index_.try_emplace(hashes[i], i).second) return tl::unexpected{ProofError::kDuplicateNode};
        }
        return db;
    }

    // The node a reference names: a hash is looked up (and marked used), embedded RLP decoded.
    Result<Node> resolve(ByteView ref) {
        ByteView rlp = ref;
        if (ref.size() == 32) {
            auto it = index_.find(to_hash(ref));
            if (it == index_.end()) return tl::unexpected{ProofError::kMissingNode};
            used_[it->second] = 1;
            rlp = nodes_[it->second];
        }
        auto node = decode_node(rlp);
        if (!node) return tl::unexpected{ProofError::kBadNode};
        return std::move(*node);
    }

    bool all_used() const noexcept {
        for (uint8_t u : used_) {
            if (u == 0) return false;
        }
        return true;
    }

  private:
    std::span<const Bytes> nodes_;
    std::unordered_map<Hash, std::size_t, HashHasher> index_;
    std::vector<uint8_t> used_;
};

// Follows `key` (nibbles) from `root` through the proof.
Result<std::optional<Bytes>> walk_key(ProofDb& db, const Hash& root, ByteView key) {
    ByteView ref = view(root);
    ByteView rest = key;
    while (true) {
        auto node = db.resolve(ref);
        if (!node) return tl::unexpected{node.error()};
        switch (node->kind) {
            case NodeKind::kLeaf:
                if (ByteView{node->path} == rest) return std::optional<Bytes>{Bytes{node->value}};
                return std::optional<Bytes>{};
            case NodeKind::kExtension:
                if (rest.substr(0, node->path.size()) != ByteView{node->path}) return std::optional<Bytes>{};
                rest.remove_prefix(node->path.size());
                ref = node->children[0];
                break;
            case NodeKind::kBranch:
                if (rest.empty()) {
                    if (node->value.empty()) return std::optional<Bytes>{};
                    return std::optional<Bytes>{Bytes{node->value}};
                }
                ref = node->children[rest[0]];
                rest.remove_prefix(1);
                if (ref.empty()) return std::optional<Bytes>{};
                break;
        }
    }
}

// Walks the two edge paths of a range and sorts every subtree it meets into left of the range,
// right of it, or inside it.
class RangeWalk {
  public:
    RangeWalk(ProofDb& db, ByteView origin, ByteView right, bool right_unbounded)
        : db_{db}, origin_{origin}, right_{right}, right_unbounded_{right_unbounded} {}

    Result<void> walk(ByteView ref, Nibbles& pos) {
        if (pos.size() > kKeyNibbles) return tl::unexpected{ProofError::kBadKeyLength};
        const Place place = classify(pos);
        if (place != Place::kOnPath) return keep(place, pos, ref);
        auto node = db_.resolve(ref);
        if (!node) return tl::unexpected{node.error()};
        switch (node->kind) {
            case NodeKind::kLeaf: {
                const Nibbles key = pos + node->path;
                if (key.size() != kKeyNibbles) return tl::unexpected{ProofError::kBadKeyLength};
                const Place p = classify(key);
                return keep(p == Place::kOnPath ? Place::kInside : p, pos, ref);
            }
            case NodeKind::kExtension: {
                const Nibbles child_pos = pos + node->path;
                if (child_pos.size() >= kKeyNibbles) return tl::unexpected{ProofError::kBadKeyLength};
                const Place p = classify(child_pos);
                if (p != Place::kOnPath) return keep(p, pos, ref);
                Nibbles next = child_pos;
                return walk(node->children[0], next);
            }
            case NodeKind::kBranch:
                if (!node->value.empty()) return tl::unexpected{ProofError::kBranchValue};
                for (uint8_t i = 0; i < 16; ++i) {
                    if (node->children[i].empty()) continue;
                    pos.push_back(i);
                    if (auto r = walk(node->children[i], pos); !r) return r;
                    pos.pop_back();
                }
                return {};
        }
        return {};
    }

    std::vector<std::pair<Nibbles, Bytes>> left_refs, right_refs;

  private:
    enum class Place { kLeft, kRight, kInside, kOnPath };

    Place classify(ByteView pos) const {
        const int to_origin = pos.compare(origin_.substr(0, pos.size()));
        if (to_origin < 0) return Place::kLeft;
        if (right_unbounded_) return to_origin == 0 ? Place::kOnPath : Place::kInside;
        const int to_right = pos.compare(right_.substr(0, pos.size()));
        if (to_right > 0) return Place::kRight;
        return (to_origin == 0 || to_right == 0) ? Place::kOnPath : Place::kInside;
    }

    Result<void> keep(Place place, ByteView pos, ByteView ref) {
        if (place == Place::kLeft) left_refs.emplace_back(Nibbles{pos}, Bytes{ref});
        if (place == Place::kRight) right_refs.emplace_back(Nibbles{pos}, Bytes{ref});
        return {};
    }

    ProofDb& db_;
    ByteView origin_;
    ByteView right_;
    bool right_unbounded_;
};

// Whether nibble path `a` sorts strictly before `b` with neither a prefix of the other: the order in
// which HashBuilder takes its items (leaves and subtree references).
bool precedes(ByteView a, ByteView b) noexcept {
    const std::size_t n = common_prefix_length(a, b);
    return n < a.size() && n < b.size() && a[n] < b[n];
}

// Checks that the kept references and the keys are in HashBuilder's order: the left references, the
// keys, the right references, each wholly before the next. The references of one side come from one
// depth-first walk, and keys are already strictly increasing and of one length, so only the seams
// between neighbours need checking. A seam fails when a key falls under a leaf or an extension on an
// edge path whose own key or path lies outside the range: the walk keeps that node as a reference at
// its position, and the proof shows the trie has no other key below it. Such a key is not in the trie.
bool in_builder_order(const RangeWalk& walk, std::span<const Bytes> keys) {
    std::vector<ByteView> seq;
    seq.reserve(walk.left_refs.size() + walk.right_refs.size() + 2);
    for (const auto& [path, ref] : walk.left_refs) seq.emplace_back(path);
    Nibbles first, last;
    if (!keys.empty()) {
        first = unpack_nibbles(keys.front());
        seq.emplace_back(first);
    }
    if (keys.size() > 1) {
        last = unpack_nibbles(keys.back());
        seq.emplace_back(last);
    }
    for (const auto& [path, ref] : walk.right_refs) seq.emplace_back(path);
    for (std::size_t i = 0; i < seq.size(); ++i) {
        if (seq[i].empty()) return false;  // a reference at the root belongs to the whole-trie case
        if (i > 0 && !precedes(seq[i - 1], seq[i])) return false;
    }
    return true;
}

}  // namespace

tl::expected<std::optional<Bytes>, ProofError> verify_proof(const Hash& root, ByteView key,
                                                            std::span<const Bytes> proof) {
    const Bytes keys[1] = {Bytes{key}};
    auto values = verify_multiproof(root, keys, proof);
    if (!values) return tl::unexpected{values.error()};
    return std::move((*values)[0]);
}

tl::expected<std::vector<std::optional<Bytes>>, ProofError> verify_multiproof(const Hash& root,
                                                                              std::span<const Bytes> keys,
                                                                              std::span<const Bytes> proof) {
    auto db = ProofDb::build(proof);
    if (!db) return tl::unexpected{db.error()};
    std::vector<std::optional<Bytes>> values;
    values.reserve(keys.size());
    for (const Bytes& key : keys) {
        if (root == kEmptyRoot) {
            values.emplace_back();
            continue;
        }
        auto v = walk_key(*db, root, unpack_nibbles(key));
        if (!v) return tl::unexpected{v.error()};
        values.push_back(std::move(*v));
    }
    if (!db->all_used()) return tl::unexpected{ProofError::kUnusedNode};
    return values;
}

namespace {

// Both range verifiers. `limit` (32 bytes) bounds the range on the right; without it the last key does.
tl::expected<bool, ProofError> verify_range(const Hash& root, ByteView origin, const Bytes* limit,
                                            std::span<const Bytes> keys, std::span<const Bytes> values,
                                            std::span<const Bytes> proof, const NodeCallback& on_node = {}) {
    if (keys.size() != values.size()) return tl::unexpected{ProofError::kLengthMismatch};
    if (keys.size() > kMaxRangeKeys) return tl::unexpected{ProofError::kTooLarge};
    if (origin.size() != kKeyNibbles / 2) return tl::unexpected{ProofError::kBadKeyLength};
    if (limit != nullptr && (limit->size() != kKeyNibbles / 2 || ByteView{*limit}.compare(origin) < 0)) {
        return tl::unexpected{ProofError::kBadKeyLength};
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (keys[i].size() != kKeyNibbles / 2) return tl::unexpected{ProofError::kBadKeyLength};
        if (values[i].empty()) return tl::unexpected{ProofError::kEmptyValue};
        if (i > 0 && ByteView{keys[i - 1]}.compare(keys[i]) >= 0) {
            return tl::unexpected{ProofError::kKeysNotIncreasing};
        }
    }
    if (!keys.empty() && ByteView{keys[0]}.compare(origin) < 0) return tl::unexpected{ProofError::kKeyOutOfRange};
    if (!keys.empty() && limit != nullptr && ByteView{keys.back()}.compare(*limit) > 0) {
        return tl::unexpected{ProofError::kKeyOutOfRange};
    }

    HashBuilder hb{on_node};
    if (proof.empty()) {
        // No proof: the leaves are the whole trie.
        for (std::size_t i = 0; i < keys.size(); ++i) hb.add_leaf(keys[i], values[i]);
        if (hb.root() != root) return tl::unexpected{ProofError::kRootMismatch};
        return false;
    }
    if (root == kEmptyRoot) return tl::unexpected{ProofError::kUnusedNode};  // nothing to prove with nodes

    auto db = ProofDb::build(proof);
    if (!db) return tl::unexpected{db.error()};
    const Nibbles origin_path = unpack_nibbles(origin);
    const bool unbounded = limit == nullptr && keys.empty();
    const Nibbles right_path =
        limit != nullptr ? unpack_nibbles(*limit) : (keys.empty() ? Nibbles{} : unpack_nibbles(keys.back()));
    RangeWalk walk{*db, origin_path, right_path, unbounded};
    Nibbles pos;
    if (auto r = walk.walk(view(root), pos); !r) return tl::unexpected{r.error()};
    if (!db->all_used()) return tl::unexpected{ProofError::kUnusedNode};

    // The whole trie lies on one side of the range: the root itself was kept as a reference.
    const bool whole_left = walk.left_refs.size() == 1 && walk.left_refs[0].first.empty();
    const bool whole_right = walk.right_refs.size() == 1 && walk.right_refs[0].first.empty();
    if (whole_left || whole_right) {
        if (!keys.empty()) return tl::unexpected{ProofError::kRootMismatch};
        return whole_right;
    }
    // HashBuilder trusts its caller with the order (asserted in debug only): check it here.
    if (!in_builder_order(walk, keys)) return tl::unexpected{ProofError::kRootMismatch};
    for (const auto& [path, ref] : walk.left_refs) hb.add_subtree(path, ref);
    for (std::size_t i = 0; i < keys.size(); ++i) hb.add_leaf(keys[i], values[i]);
    for (const auto& [path, ref] : walk.right_refs) hb.add_subtree(path, ref);
    if (hb.root() != root) return tl::unexpected{ProofError::kRootMismatch};
    return !walk.right_refs.empty();
}

}  // namespace

tl::expected<bool, ProofError> verify_range_proof(const Hash& root, ByteView origin, std::span<const Bytes> keys,
                                                  std::span<const Bytes> values, std::span<const Bytes> proof) {
    return verify_range(root, origin, nullptr, keys, values, proof);
}

tl::expected<bool, ProofError> verify_bounded_range_proof(const Hash& root, ByteView origin, ByteView limit,
                                                          std::span<const Bytes> keys, std::span<const Bytes> values,
                                                          std::span<const Bytes> proof) {
    const Bytes lim{limit};
    return verify_range(root, origin, &lim, keys, values, proof);
}

tl::expected<bool, ProofError> verify_bounded_range_proof(const Hash& root, ByteView origin, ByteView limit,
                                                          std::span<const Bytes> keys, std::span<const Bytes> values,
                                                          std::span<const Bytes> proof, const NodeCallback& on_node) {
    const Bytes lim{limit};
    return verify_range(root, origin, &lim, keys, values, proof, on_node);
}

}  // namespace carousel::trie
