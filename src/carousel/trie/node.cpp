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

// Reads one child reference item from `from`. The two shapes of almost every reference, the empty
// string and a hash, are read without a generic header decode.
tl::expected<ByteView, NodeError> decode_reference(ByteView& from) {
    if (!from.empty() && from[0] == 0x80) {
        from.remove_prefix(1);
        return ByteView{};
    }
    if (from.size() >= 33 && from[0] == 0xa0) {
        const ByteView hash = from.substr(1, 32);
        from.remove_prefix(33);
        return hash;
    }
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

// The path of a leaf or an extension from its hex-prefix item (decode_hex_prefix, without its
// nibble-by-nibble appends: this runs for every leaf a trie loads).
tl::expected<DecodedPath, NodeError> decode_path(ByteView& from) {
    auto encoded = rlp::decode_string(from);
    if (!encoded || encoded->empty()) return tl::unexpected{NodeError::kBadPath};
    const uint8_t flag = (*encoded)[0] >> 4;
    const bool odd = (flag & 1) != 0;
    if (flag > 3 || (!odd && ((*encoded)[0] & 0x0f) != 0)) return tl::unexpected{NodeError::kBadPath};
    const std::size_t nibbles = 2 * (encoded->size() - 1) + (odd ? 1 : 0);
    if (nibbles > kMaxKeyNibbles) return tl::unexpected{NodeError::kPathTooLong};
    DecodedPath out;
    out.leaf = (flag & 2) != 0;
    out.nibbles.resize(nibbles);
    uint8_t* p = out.nibbles.data();
    if (odd) *p++ = (*encoded)[0] & 0x0f;
    unpack_nibbles(encoded->substr(1), p);
    return out;
}

// decode_node without the check of the whole encoding first: succeeds exactly when decode_node
// does, with the same node, but its error may differ from decode_node's. A success implies that
// rlp::validate(rlp) holds: the item is a list spanning `rlp`, the header of each of its items is
// read, and its only list items are embedded children, themselves decoded as nodes. One pass: the
// shape is told by the first item (a branch's first item is a reference, never a hex-prefix path
// followed by exactly one more item).
tl::expected<Node, NodeError> decode_items(ByteView rlp) {
    ByteView in = rlp;
    auto payload = rlp::decode_list(in);
    if (!payload || !in.empty()) return tl::unexpected{NodeError::kBadRlp};

    // A node of two items is a leaf or an extension, of 17 a branch: read the first two items as
    // either until the count is known.
    std::size_t count = 0;
    for (ByteView p = *payload; !p.empty() && count < 3; ++count) {
        auto h = rlp::decode_header(p);
        if (!h) return tl::unexpected{NodeError::kBadRlp};
        p.remove_prefix(h->payload_length);
    }

    Node node;
    ByteView p = *payload;
    if (count == 2) {
        auto path = decode_path(p);
        if (!path) return tl::unexpected{path.error()};
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
    if (count < 3) return tl::unexpected{NodeError::kBadItemCount};
    node.kind = NodeKind::kBranch;
    std::size_t entries = 0;
    for (auto& child : node.children) {
        if (p.empty()) return tl::unexpected{NodeError::kBadItemCount};
        auto c = decode_reference(p);
        if (!c) return tl::unexpected{c.error()};
        child = *c;
        entries += child.empty() ? 0U : 1U;
    }
    if (p.empty()) return tl::unexpected{NodeError::kBadItemCount};
    auto value = rlp::decode_string(p);
    if (!value) return tl::unexpected{NodeError::kBadRlp};
    if (!p.empty()) return tl::unexpected{NodeError::kBadItemCount};
    node.value = *value;
    entries += value->empty() ? 0U : 1U;
    if (entries < 2) return tl::unexpected{NodeError::kSparseBranch};
    return node;
}

}  // namespace

tl::expected<Node, NodeError> decode_node(ByteView rlp) {
    // One pass over a good node (every node a trie loads); a bad one is checked whole first, so
    // that a malformed encoding anywhere is reported as kBadRlp ahead of the other errors.
    if (auto node = decode_items(rlp)) return node;
    if (!rlp::validate(rlp)) return tl::unexpected{NodeError::kBadRlp};
    // Good RLP: a list of neither 2 nor 17 items is named as such ahead of what is wrong in its items.
    ByteView in = rlp;
    if (auto payload = rlp::decode_list(in)) {
        std::size_t count = 0;
        for (ByteView p = *payload; !p.empty(); ++count) p.remove_prefix(rlp::decode_header(p)->payload_length);
        if (count != 2 && count != 17) return tl::unexpected{NodeError::kBadItemCount};
    }
    return decode_items(rlp);
}

namespace {

// The encoders size the output once and write through a pointer: they are the hot path of every
// root computation, and appending item by item to a Bytes cost more than the rest of HashBuilder.

// Length of `s` as an RLP string item.
inline std::size_t string_item_length(std::size_t size, const uint8_t* first) noexcept {
    if (size == 1 && first[0] < 0x80) return 1;
    return rlp::header_length(size) + size;
}

inline uint8_t* write_string_item(uint8_t* p, const uint8_t* data, std::size_t size) noexcept {
    if (!(size == 1 && data[0] < 0x80)) p += rlp::write_header(p, false, size);
    if (size != 0) std::memcpy(p, data, size);
    return p + size;
}

inline uint8_t* write_reference(uint8_t* p, ByteView ref) noexcept {
    if (ref.size() == 32) {
        *p++ = 0xa0;
        std::memcpy(p, ref.data(), 32);
        return p + 32;
    }
    if (ref.empty()) {
        *p++ = 0x80;
        return p;
    }
    std::memcpy(p, ref.data(), ref.size());
    return p + ref.size();
}

// [HP(path, leaf), second] where `second` is a string item (leaf value) or a reference (extension).
void encode_short(Bytes& out, ByteView path, bool leaf, ByteView second) {
    uint8_t hp[kMaxKeyNibbles / 2 + 1];
    const std::size_t hp_len = write_hex_prefix(hp, path, leaf);
    const std::size_t second_len =
        leaf ? string_item_length(second.size(), second.data()) : reference_item_length(second);
    const std::size_t payload = string_item_length(hp_len, hp) + second_len;
    const std::size_t old = out.size();
    out.resize(old + rlp::header_length(payload) + payload);
    uint8_t* p = out.data() + old;
    p += rlp::write_header(p, true, payload);
    p = write_string_item(p, hp, hp_len);
    if (leaf) {
        write_string_item(p, second.data(), second.size());
    } else {
        write_reference(p, second);
    }
}

}  // namespace

void append_reference(Bytes& out, ByteView ref) {
    const std::size_t old = out.size();
    out.resize(old + reference_item_length(ref));
    write_reference(out.data() + old, ref);
}

void encode_leaf(Bytes& out, ByteView path, ByteView value) { encode_short(out, path, true, value); }

void encode_extension(Bytes& out, ByteView path, ByteView child_ref) { encode_short(out, path, false, child_ref); }

void encode_branch(Bytes& out, const std::array<ByteView, 16>& children, ByteView value) {
    std::size_t payload = value.empty() ? 1 : string_item_length(value.size(), value.data());
    for (const auto& c : children) payload += reference_item_length(c);
    const std::size_t old = out.size();
    out.resize(old + rlp::header_length(payload) + payload);
    uint8_t* p = out.data() + old;
    p += rlp::write_header(p, true, payload);
    for (const auto& c : children) p = write_reference(p, c);
    if (value.empty()) {
        *p = 0x80;
    } else {
        write_string_item(p, value.data(), value.size());
    }
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
