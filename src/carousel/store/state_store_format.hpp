// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Internal to StateStore (state_store*.cpp): the on-disk format, version 1, that state_store.hpp
// describes: the store's keys and how its records are laid out, written once here and read by the
// store's writes, reads and checks. Not part of the library's API: include state_store.hpp.
//
// The decoders take bytes from the database and are strict: they accept exactly what the encoders
// write and report everything else (a malformed record is corruption, never a crash).

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include <carousel/core/bytes.hpp>

#include "kv.hpp"
#include "state_store.hpp"
#include "status.hpp"

namespace carousel::store::state_format {

// ---- keys ----------------------------------------------------------------------------------------

inline constexpr uint8_t kStateVersion = 1;
inline constexpr std::string_view kStateKey = "state";    // kMeta: the state record
inline constexpr std::string_view kImportKey = "import";  // kMeta: a genesis import under way
inline constexpr uint8_t kJournalTag = 'j';

// The columns the store owns (kMeta is shared: only its two keys are ours).
inline constexpr std::array<Column, 5> kOwnColumns{Column::kTrieNodes, Column::kAccountLeaves, Column::kStorageLeaves,
                                                   Column::kCode, Column::kBlocks};

// Appends the `n` low bytes of `v`, big-endian.
void put_be(Bytes& to, uint64_t v, std::size_t n);
// Reads `n` big-endian bytes from the front of `from` (which must hold them) and drops them.
uint64_t get_be(ByteView& from, std::size_t n) noexcept;

// kBlocks: be64(block) -> the block's diff; be64(block) ++ "j" -> its pruning journal.
Bytes block_key(uint64_t block);
Bytes journal_key(uint64_t block);
// kStorageLeaves: account key ++ slot key.
Bytes slot_leaf_key(const Hash& account_key, const Hash& slot_key);

// Deletes every key of `column` (keys of the store are at most 64 bytes).
void delete_column(WriteBatch& batch, Column column);

// A hash as the store's messages name it (0x-prefixed hex).
std::string hex(const Hash& h);

// ---- trie-node values ----------------------------------------------------------------------------

// LEB128 count, then the node's RLP.
Bytes encode_node_value(uint64_t count, ByteView rlp);

struct NodeValue {
    uint64_t count{0};
    ByteView rlp;  // a view into the decoded value
};

// Strict: a minimal varint count >= 1 of at most 64 bits, then a non-empty RLP list.
std::optional<NodeValue> decode_node_value(ByteView v) noexcept;

// The corruption status of a trie-node value that does not decode.
Status malformed_node(const Hash& h);

// ---- the "state" record --------------------------------------------------------------------------

// [u8 version][u8 has_head][be64 head block][32 head root][be64 accounts][be64 slots][be32 n]
// [n x (be64 block, 32 root)], the window oldest first, consecutive blocks ending at the head.
Bytes encode_state(const StateStore::Head& head, const std::deque<StateStore::BlockRoot>& window);
// Fills `head` and `window`; corruption naming what is wrong, not-supported for another version.
Status decode_state(ByteView v, StateStore::Head& head, std::deque<StateStore::BlockRoot>& window);

}  // namespace carousel::store::state_format
