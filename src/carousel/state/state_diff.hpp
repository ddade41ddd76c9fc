// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// StateDiff: one block's changes to the world state, in hashed-key space (as snap sync and the
// trie see it: no address or slot preimages are needed).
//
// Every change carries the value before and after the block, so a diff can be checked against the
// state it applies to (apply() refuses a diff whose `before` values do not match) and inverted
// exactly. Slot values are the storage trie's leaf values: RLP of the minimal big-endian word;
// an empty value means the slot is absent (zero).

#include <optional>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/core/rlp.hpp>

#include "account.hpp"

namespace carousel::state {

struct AccountChange {
    Hash key{};                     // keccak256(address)
    std::optional<Account> before;  // nullopt: the account did not exist
    std::optional<Account> after;   // nullopt: the account is deleted
    friend bool operator==(const AccountChange&, const AccountChange&) = default;
};

struct SlotChange {
    Hash account_key{};  // keccak256(address)
    Hash slot_key{};     // keccak256(slot)
    Bytes before;        // leaf value before (empty: absent)
    Bytes after;         // leaf value after (empty: cleared)
    friend bool operator==(const SlotChange&, const SlotChange&) = default;
};

struct StateDiff {
    uint64_t block{0};
    Hash parent_root{};                   // state root before the block
    Hash root{};                          // state root after it
    std::vector<AccountChange> accounts;  // strictly increasing by key
    std::vector<SlotChange> slots;        // strictly increasing by (account_key, slot_key)
    std::vector<Bytes> code;              // contract code deployed in this block, each once

    // The diff that undoes this one (roots swapped, before and after swapped; code kept).
    StateDiff inverse() const;

    friend bool operator==(const StateDiff&, const StateDiff&) = default;
};

enum class [[nodiscard]] DiffError{
    kNotSorted = 1,        // accounts or slots out of order, or repeated
    kNoOpChange,           // a change whose before equals its after
    kOrphanSlot,           // a slot change of an account the diff does not change
    kSlotOfDeleted,        // a slot written (not cleared) in an account the block deletes
    kBadSlotValue,         // a slot value that is not a canonical RLP word
    kBeforeMismatch,       // apply(): the state does not hold the change's `before` value
    kStorageRootMismatch,  // apply(): the storage root after the slot changes differs from the account's
    kRootMismatch,         // apply(): the state root after the diff differs from diff.root
    kMissingNode,          // apply(): the node store lacks a node of the state
    kMissingCode,          // an account's code hash has no code in the store or the diff
    kTooLarge,             // decode: more entries than the limits allow
    kBadEncoding,          // decode: malformed RLP
};
std::string_view to_string(DiffError e) noexcept;

// Checks the diff's shape (order, no-ops, orphans, slot values); not its values against a state.
// With `sealing` (a diff whose storage roots are not filled in yet, as WorldState::seal_and_apply
// takes), an account change whose before equals its after is not a no-op if the diff writes slots
// of it: its storage root is what changes.
tl::expected<void, DiffError> validate(const StateDiff& diff, bool sealing = false);

// Most entries a decoded diff may hold, by what it is. The caps bound the memory a decoder spends on
// a peer's or a file's claims; past them decoding fails with DiffError::kTooLarge.
struct DiffLimits {
    std::size_t accounts;
    std::size_t slots;
    std::size_t code;       // code blobs
    std::size_t code_size;  // bytes per blob
};
// One block's changes: a mainnet block has about 800 accounts and 1000 slot writes; the caps are
// three orders of magnitude above. 128 KiB per blob (EIP-170 caps deployed code at 24 KiB).
inline constexpr DiffLimits kBlockDiffLimits{std::size_t{1} << 20, std::size_t{1} << 22, std::size_t{1} << 14,
                                             std::size_t{1} << 17};
// A whole state as one diff (a genesis, block 0): mainnet holds about 270M accounts, 1.2B storage
// slots and a few million distinct contract codes; the caps are about twice that.
inline constexpr DiffLimits kStateDiffLimits{std::size_t{1} << 29, std::size_t{1} << 31, std::size_t{1} << 23,
                                             std::size_t{1} << 17};
// Kept for callers that name the per-block caps directly.
inline constexpr std::size_t kMaxDiffAccounts = kBlockDiffLimits.accounts;
inline constexpr std::size_t kMaxDiffSlots = kBlockDiffLimits.slots;
inline constexpr std::size_t kMaxDiffCode = kBlockDiffLimits.code;
inline constexpr std::size_t kMaxCodeSize = kBlockDiffLimits.code_size;

// RLP: [block, parent_root, root, [[key, before, after]...], [[account_key, slot_key, before, after]...],
// [code...]], where an absent account is the empty string and a present one its account RLP.
Bytes encode_state_diff(const StateDiff& diff);
// Strict decode of a whole input, bounded by `limits`; validates the shape too.
tl::expected<StateDiff, DiffError> decode_state_diff(ByteView in, const DiffLimits& limits);
// The same with the limits its context implies: kStateDiffLimits for block 0 (a genesis, the whole
// state), kBlockDiffLimits for any other block.
tl::expected<StateDiff, DiffError> decode_state_diff(ByteView in);

}  // namespace carousel::state
