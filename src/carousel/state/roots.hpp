// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Roots of the "secure" tries of Ethereum state (Yellow Paper, Appendix D and section 4.1), built
// with trie::HashBuilder over keys sorted after hashing.

#include <span>
#include <utility>

#include <carousel/core/bytes.hpp>

#include "account.hpp"

namespace carousel::state {

// Root of a storage trie: keccak256(slot key) -> RLP(minimal big-endian value). Slots with a zero
// value are absent and skipped. Slot keys must be distinct; their order does not matter.
Hash storage_root(std::span<const StorageSlot> slots);

// Root of an account trie: keccak256(address) -> encode_account(account), the accounts' storage
// roots and code hashes used as given. Every account is a leaf, empty ones included. Addresses must
// be distinct; their order does not matter.
Hash account_trie_root(std::span<const std::pair<Address, Account>> accounts);

}  // namespace carousel::state
