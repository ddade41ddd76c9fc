// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// The on-disk format of StateStore (see state_store_format.hpp and state_store.hpp).
#include "state_store_format.hpp"

#include <carousel/core/hex.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::store::state_format {

void put_be(Bytes& to, uint64_t v, std::size_t n) {
    for (std::size_t k = n; k-- > 0;) to.push_back(static_cast<uint8_t>(v >> (8 * k)));
}
uint64_t get_be(ByteView& from, std::size_t n) noexcept {
    uint64_t v = 0;
    for (std::size_t k = 0; k < n; ++k) v = (v << 8) | from[k];
    from.remove_prefix(n);
    return v;
}

Bytes block_key(uint64_t block) {
    Bytes k;
    put_be(k, block, 8);
    return k;
}
Bytes journal_key(uint64_t block) {
    Bytes k = block_key(block);
    k.push_back(kJournalTag);
    return k;
}
Bytes slot_leaf_key(const Hash& account_key, const Hash& slot_key) {
    Bytes k;
    k.reserve(64);
    k.append(view(account_key));
    k.append(view(slot_key));
    return k;
}

std::string hex(const Hash& h) { return to_hex_prefixed(view(h)); }

// Trie-node values: LEB128 count, then the node's RLP.
Bytes encode_node_value(uint64_t count, ByteView rlp) {
    Bytes v;
    v.reserve(rlp.size() + 2);
    while (count >= 0x80) {
        v.push_back(static_cast<uint8_t>(count | 0x80));
        count >>= 7;
    }
    v.push_back(static_cast<uint8_t>(count));
    v.append(rlp);
    return v;
}

// Strict: a minimal varint count >= 1 of at most 64 bits, then a non-empty RLP list.
std::optional<NodeValue> decode_node_value(ByteView v) noexcept {
    NodeValue out;
    for (unsigned shift = 0;; shift += 7) {
        if (v.empty() || shift > 63) return std::nullopt;
        const uint8_t b = v.front();
        v.remove_prefix(1);
        if (shift == 63 && b > 1) return std::nullopt;
        out.count |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (b < 0x80) {
            if (b == 0 && shift > 0) return std::nullopt;  // overlong
            break;
        }
    }
    if (out.count == 0 || v.empty() || v.front() < 0xc0) return std::nullopt;
    out.rlp = v;
    return out;
}

Status malformed_node(const Hash& h) {
    return Status::corruption("trie node " + hex(h) +
                              " in column trie_nodes is malformed (want a count and an RLP list)");
}

// The fixed part of the "state" record (state_store_format.hpp).
constexpr std::size_t kStateFixed = 1 + 1 + 8 + 32 + 8 + 8 + 4;

Bytes encode_state(const StateStore::Head& head, const std::deque<StateStore::BlockRoot>& window) {
    Bytes v;
    v.reserve(kStateFixed + window.size() * 40);
    v.push_back(kStateVersion);
    v.push_back(head.block ? 1 : 0);
    put_be(v, head.block.value_or(0), 8);
    v.append(view(head.root));
    put_be(v, head.accounts, 8);
    put_be(v, head.slots, 8);
    put_be(v, window.size(), 4);
    for (const auto& br : window) {
        put_be(v, br.block, 8);
        v.append(view(br.root));
    }
    return v;
}

Status decode_state(ByteView v, StateStore::Head& head, std::deque<StateStore::BlockRoot>& window) {
    auto bad = [](const std::string& why) {
        return Status::corruption("the meta record \"state\" is malformed: " + why);
    };
    if (v.empty()) return bad("empty");
    if (v[0] != kStateVersion) {
        return Status::not_supported("the meta record \"state\" has format version " + std::to_string(v[0]) +
                                     "; this build reads version " + std::to_string(kStateVersion));
    }
    if (v.size() < kStateFixed) return bad(std::to_string(v.size()) + " bytes, fewer than the fixed part");
    v.remove_prefix(1);
    const uint8_t has_head = v[0];
    v.remove_prefix(1);
    if (has_head > 1) return bad("head flag " + std::to_string(has_head));
    const uint64_t block = get_be(v, 8);
    head.root = to_hash(v.substr(0, 32));
    v.remove_prefix(32);
    head.accounts = get_be(v, 8);
    head.slots = get_be(v, 8);
    const uint64_t n = get_be(v, 4);
    if (v.size() != n * 40) {
        return bad(std::to_string(n) + " window roots announced, " + std::to_string(v.size()) + " bytes follow");
    }
    head.block = has_head != 0 ? std::optional<uint64_t>{block} : std::nullopt;
    window.clear();
    for (uint64_t i = 0; i < n; ++i) {
        StateStore::BlockRoot br;
        br.block = get_be(v, 8);
        br.root = to_hash(v.substr(0, 32));
        v.remove_prefix(32);
        if (!window.empty() && br.block != window.back().block + 1) return bad("window blocks are not consecutive");
        window.push_back(br);
    }
    if (!head.block) {
        if (head.root != trie::kEmptyRoot || !window.empty() || head.accounts != 0 || head.slots != 0) {
            return bad("no head block, but a root, counts or a window");
        }
        return {};
    }
    if (window.empty() || window.back().block != *head.block || window.back().root != head.root) {
        return bad("the window does not end at the head block " + std::to_string(*head.block));
    }
    return {};
}

// Deletes every key of `column` (keys of the store are at most 64 bytes).
void delete_column(WriteBatch& batch, Column column) { batch.del_range(column, Bytes{}, Bytes(65, 0xff)); }

}  // namespace carousel::store::state_format
