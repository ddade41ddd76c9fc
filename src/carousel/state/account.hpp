// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Accounts as the account trie stores them (Yellow Paper, section 4.1): the leaf under
// keccak256(address) is RLP([nonce, balance, storageRoot, codeHash]).

#include <array>
#include <cstdint>

#include <carousel/core/bytes.hpp>
#include <carousel/core/rlp.hpp>

#include "u256.hpp"

namespace carousel::state {

using Address = std::array<uint8_t, 20>;

namespace detail {
consteval Hash hash_literal(const char (&hex)[65]) {
    auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
    Hash h{};
    for (std::size_t i = 0; i < 32; ++i) h[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return h;
}
}  // namespace detail

// keccak256(RLP("")): the root of an empty trie (an account without storage).
inline constexpr Hash kEmptyTrieRoot =
    detail::hash_literal("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
// keccak256(""): the code hash of an account without code.
inline constexpr Hash kEmptyCodeHash =
    detail::hash_literal("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

struct Account {
    uint64_t nonce{0};
    U256 balance;
    Hash storage_root{kEmptyTrieRoot};
    Hash code_hash{kEmptyCodeHash};

    // EIP-161 emptiness: no nonce, no balance, no code (storage is not considered).
    [[nodiscard]] bool is_empty() const noexcept {
        return nonce == 0 && balance.is_zero() && code_hash == kEmptyCodeHash;
    }

    friend bool operator==(const Account&, const Account&) = default;
};

// One storage slot: the 32-byte slot key (not yet hashed) and its value. The storage trie holds
// keccak256(key) -> RLP(minimal big-endian value); a zero value means the slot is absent.
struct StorageSlot {
    Hash key{};
    U256 value;

    friend bool operator==(const StorageSlot&, const StorageSlot&) = default;
};

// Appends RLP([nonce, balance, storage_root, code_hash]) to `to`, integers minimal.
void encode_account(Bytes& to, const Account& a);
Bytes encode_account(const Account& a);

// Decodes one account and consumes it from the front of `from`. Strict: the list must hold exactly
// four items (kUnexpectedListElements otherwise), nonce at most 64 bits and balance at most 256
// (kOverflow), no leading zeros (kLeadingZero), both hashes exactly 32 bytes (kUnexpectedLength),
// plus every error of the generic RLP decoders.
rlp::Result<Account> decode_account(ByteView& from) noexcept;

}  // namespace carousel::state
