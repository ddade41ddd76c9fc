// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// A generic RLP item tree: a byte string or a list of items (Yellow Paper, Appendix B).
//
// For tests, tools and messages whose shape is not known in advance. Typed decoders (accounts,
// trie nodes, wire messages) read the bytes directly with rlp.hpp instead of building a tree.

#include <vector>

#include "bytes.hpp"
#include "rlp.hpp"

namespace carousel::rlp {

// One RLP item. A string item uses `bytes` and leaves `items` empty; a list item uses `items` and
// leaves `bytes` empty. Integers are strings holding their minimal big-endian bytes (zero is empty).
struct Item {
    bool list{false};
    Bytes bytes;              // payload of a string item
    std::vector<Item> items;  // elements of a list item

    static Item string(ByteView s) { return Item{false, Bytes{s}, {}}; }
    static Item make_list(std::vector<Item> elements) { return Item{true, {}, std::move(elements)}; }

    friend bool operator==(const Item& a, const Item& b) = default;
};

// Decodes `from`, which must be exactly one item: strict (every non-canonical form is an error, as in
// decode_header), no trailing bytes (kInputTooLong), lists nested at most kMaxDepth deep (kTooDeep).
// Accepts exactly the inputs validate() accepts. Never reads outside `from`.
Result<Item> decode_item(ByteView from);

// Appends the canonical encoding of `item` to `to`.
void encode(Bytes& to, const Item& item);
// The canonical encoding of `item`. For every input x that decode_item accepts,
// encode(*decode_item(x)) == x.
Bytes encode(const Item& item);

// Encoded length of `item`, header included.
std::size_t length(const Item& item) noexcept;

}  // namespace carousel::rlp
