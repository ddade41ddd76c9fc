// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "rlp_item.hpp"

namespace carousel::rlp {
namespace {

// Decodes one item from the front of `from` and consumes it. `depth` counts the lists enclosing it.
Result<Item> decode_one(ByteView& from, std::size_t depth) {
    auto h = decode_header(from);
    if (!h) return tl::unexpected{h.error()};
    ByteView payload = from.substr(0, h->payload_length);
    from.remove_prefix(h->payload_length);
    if (!h->list) return Item::string(payload);

    // Same depth rule as validate(): the outermost list is at depth 1.
    if (depth + 1 > kMaxDepth) return tl::unexpected{DecodingError::kTooDeep};
    Item out{true, {}, {}};
    while (!payload.empty()) {
        auto child = decode_one(payload, depth + 1);
        if (!child) return child;
        out.items.push_back(std::move(*child));
    }
    return out;
}

std::size_t payload_length(const Item& item) noexcept {
    if (!item.list) return item.bytes.size();
    std::size_t n = 0;
    for (const Item& child : item.items) n += length(child);
    return n;
}

}  // namespace

Result<Item> decode_item(ByteView from) {
    auto item = decode_one(from, 0);
    if (!item) return item;
    if (!from.empty()) return tl::unexpected{DecodingError::kInputTooLong};
    return item;
}

std::size_t length(const Item& item) noexcept {
    if (!item.list) return rlp::length(ByteView{item.bytes});
    const std::size_t payload = payload_length(item);
    return header_length(payload) + payload;
}

void encode(Bytes& to, const Item& item) {
    if (!item.list) {
        encode(to, ByteView{item.bytes});
        return;
    }
    encode_header(to, {true, payload_length(item)});
    for (const Item& child : item.items) encode(to, child);
}

Bytes encode(const Item& item) {
    Bytes out;
    out.reserve(length(item));
    encode(out, item);
    return out;
}

}  // namespace carousel::rlp
