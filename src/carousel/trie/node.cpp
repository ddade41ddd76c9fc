// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "node.hpp"

#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp.hpp>

namespace carousel::trie {

std::string_view to_string(NodeError e) noexcept {
    switch (e) {
        case NodeError::kBadRlp:
            return "malformed RLP";
        case NodeError::kBadItemCount:
            return "node is not a 2- or 17-item list";
        case NodeError::kBadPath:
            return "malformed hex-prefix path";
        case NodeError::kEmptyExtensionPath:
            return "extension with an empty path";
        case NodeError::kEmptyLeafValue:
            return "leaf with an empty value";
        case NodeError::kBadChildReference:
            return "malformed child reference";
        case NodeError::kEmbeddedTooLong:
            return "embedded child of 32 bytes or more";
        case NodeError::kEmptyExtensionChild:
            return "extension without a child";
        case NodeError::kSparseBranch:
            return "branch with fewer than two entries";
        case NodeError::kPathTooLong:
            return "path too long";
    }
    return "unknown node error";
}

namespace {

// Reads one child reference item from `from`.
tl::expected<ByteView, NodeError> decode_reference(ByteView& from) {
    const ByteView item_start = from;
    auto h = rlp::decode_header(from);
    if (!h) return tl::unexpected{NodeError::kBadRlp};
    if (h->list) {
        // An embedded node: the whole item (header included) is the reference.
        const std::size_t total = static_cast<std::size_t>(from.data() - item_start.data()) + h->payload_length;
        from.remove_prefix(h->payload_length);
        if (total >= 32) return tl::unexpected{NodeError::kEmbeddedTooLong};
        ByteView embedded = item_start.substr(0, total);
        // The embedded node must itself be a valid node.
        if (auto n = decode_node(embedded); !n) return tl::unexpected{n.error()};
        return embedded;
    }
    ByteView payload = from.substr(0, h->payload_length);
    from.remove_prefix(h->payload_length);
    if (payload.empty() || payload.size() == 32) return payload;
    return tl::unexpected{NodeError::kBadChildReference};
}

}  // namespace

tl::expected<Node, NodeError> decode_node(ByteView rlp) {
    if (!rlp::validate(rlp)) return tl::unexpected{NodeError::kBadRlp};
    ByteView in = rlp;
    auto payload = rlp::decode_list(in);
    if (!payload) return tl::unexpected{NodeError::kBadRlp};

    // Count items.
    std::size_t count = 0;
    for (ByteView p = *payload; !p.empty(); ++count) {
        auto h = rlp::decode_header(p);
        if (!h) return tl::unexpected{NodeError::kBadRlp};
        p.remove_prefix(h->payload_length);
    }

    Node node;
    ByteView p = *payload;
    if (count == 2) {
        auto path_bytes = rlp::decode_string(p);
        if (!path_bytes) return tl::unexpected{NodeError::kBadPath};
        auto path = decode_hex_prefix(*path_bytes);
        if (!path) return tl::unexpected{NodeError::kBadPath};
        if (path->nibbles.size() > kMaxKeyNibbles) return tl::unexpected{NodeError::kPathTooLong};
        node.path = std::move(path->nibbles);
        if (path->leaf) {
            node.kind = NodeKind::kLeaf;
            auto value = rlp::decode_string(p);
            if (!value) return tl::unexpected{NodeError::kBadRlp};
            if (value->empty()) return tl::unexpected{NodeError::kEmptyLeafValue};
            node.value = *value;
        } else {
            node.kind = NodeKind::kExtension;
            if (node.path.empty()) return tl::unexpected{NodeError::kEmptyExtensionPath};
            auto child = decode_reference(p);
            if (!child) return tl::unexpected{child.error()};
            if (child->empty()) return tl::unexpected{NodeError::kEmptyExtensionChild};
            node.children[0] = *child;
        }
        return node;
    }
    if (count != 17) return tl::unexpected{NodeError::kBadItemCount};
    node.kind = NodeKind::kBranch;
    std::size_t entries = 0;
    for (auto& child : node.children) {
        auto c = decode_reference(p);
        if (!c) return tl::unexpected{c.error()};
        child = *c;
        entries += child.empty() ? 0U : 1U;
    }
    auto value = rlp::decode_string(p);
    if (!value) return tl::unexpected{NodeError::kBadRlp};
    node.value = *value;
    entries += value->empty() ? 0U : 1U;
    if (entries < 2) return tl::unexpected{NodeError::kSparseBranch};
    return node;
}

void append_reference(Bytes& out, ByteView ref) {
    if (ref.size() == 32 || ref.empty()) {
        rlp::encode(out, ref);
    } else {
        out.append(ref);
    }
}

void encode_leaf(Bytes& out, ByteView path, ByteView value) {
    const std::size_t hp_len = hex_prefix_length(path.size());
    uint8_t hp[kMaxKeyNibbles / 2 + 1];
    write_hex_prefix(hp, path, /*leaf=*/true);
    const ByteView hp_view{hp, hp_len};
    rlp::encode_header(out, {true, rlp::length(hp_view) + rlp::length(value)});
    rlp::encode(out, hp_view);
    rlp::encode(out, value);
}

void encode_extension(Bytes& out, ByteView path, ByteView child_ref) {
    const std::size_t hp_len = hex_prefix_length(path.size());
    uint8_t hp[kMaxKeyNibbles / 2 + 1];
    write_hex_prefix(hp, path, /*leaf=*/false);
    const ByteView hp_view{hp, hp_len};
    rlp::encode_header(out, {true, rlp::length(hp_view) + reference_item_length(child_ref)});
    rlp::encode(out, hp_view);
    append_reference(out, child_ref);
}

void encode_branch(Bytes& out, const std::array<ByteView, 16>& children, ByteView value) {
    std::size_t payload = rlp::length(value);
    for (const auto& c : children) payload += reference_item_length(c);
    rlp::encode_header(out, {true, payload});
    for (const auto& c : children) append_reference(out, c);
    rlp::encode(out, value);
}

std::size_t make_reference(ByteView rlp, uint8_t* out) noexcept {
    if (rlp.size() < 32) {
        std::memcpy(out, rlp.data(), rlp.size());
        return rlp.size();
    }
    keccak256(rlp, out);
    return 32;
}

Bytes make_reference(ByteView rlp) {
    uint8_t buf[32];
    return Bytes{buf, make_reference(rlp, buf)};
}

}  // namespace carousel::trie
