// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "state_diff.hpp"

#include <algorithm>
#include <tuple>

#include <carousel/core/rlp_list.hpp>

namespace carousel::state {

std::string_view to_string(DiffError e) noexcept {
    switch (e) {
        case DiffError::kNotSorted:
            return "changes not strictly sorted";
        case DiffError::kNoOpChange:
            return "change with equal before and after";
        case DiffError::kOrphanSlot:
            return "slot change of an account the diff does not change";
        case DiffError::kSlotOfDeleted:
            return "slot written in a deleted account";
        case DiffError::kBadSlotValue:
            return "slot value is not a canonical RLP word";
        case DiffError::kBeforeMismatch:
            return "state does not match the diff's before-values";
        case DiffError::kStorageRootMismatch:
            return "storage root after the diff differs from the account's";
        case DiffError::kRootMismatch:
            return "state root after the diff differs from the diff's root";
        case DiffError::kMissingNode:
            return "trie node missing from the store";
        case DiffError::kMissingCode:
            return "code missing for an account's code hash";
        case DiffError::kTooLarge:
            return "diff exceeds the size limits";
        case DiffError::kBadEncoding:
            return "malformed diff encoding";
    }
    return "unknown diff error";
}

StateDiff StateDiff::inverse() const {
    StateDiff inv;
    inv.block = block;
    inv.parent_root = root;
    inv.root = parent_root;
    inv.accounts.reserve(accounts.size());
    for (const auto& a : accounts) inv.accounts.push_back({a.key, a.after, a.before});
    inv.slots.reserve(slots.size());
    for (const auto& s : slots) inv.slots.push_back({s.account_key, s.slot_key, s.after, s.before});
    inv.code = code;
    return inv;
}

namespace {

// A storage leaf value: RLP of a non-zero word of at most 32 bytes without leading zeros.
bool valid_slot_value(ByteView v) {
    if (v.empty()) return true;
    ByteView in = v;
    auto word = rlp::decode_uint256(in);
    return word && in.empty() && !word->empty();
}

}  // namespace

tl::expected<void, DiffError> validate(const StateDiff& diff, bool sealing) {
    // When sealing, an account change that looks like a no-op may still change the storage root (to be
    // filled in): it is one only if it has no slot changes, which the slot pass below tells.
    std::vector<bool> maybe_no_op;
    for (std::size_t i = 0; i < diff.accounts.size(); ++i) {
        const auto& a = diff.accounts[i];
        if (i > 0 && !(diff.accounts[i - 1].key < a.key)) return tl::unexpected{DiffError::kNotSorted};
        if (a.before == a.after) {
            if (!sealing || !a.after) return tl::unexpected{DiffError::kNoOpChange};
            if (maybe_no_op.empty()) maybe_no_op.assign(diff.accounts.size(), false);
            maybe_no_op[i] = true;
        }
    }
    std::size_t ai = 0;
    for (std::size_t i = 0; i < diff.slots.size(); ++i) {
        const auto& s = diff.slots[i];
        if (i > 0) {
            const auto& p = diff.slots[i - 1];
            if (!(std::tie(p.account_key, p.slot_key) < std::tie(s.account_key, s.slot_key))) {
                return tl::unexpected{DiffError::kNotSorted};
            }
        }
        if (s.before == s.after) return tl::unexpected{DiffError::kNoOpChange};
        if (!valid_slot_value(s.before) || !valid_slot_value(s.after)) return tl::unexpected{DiffError::kBadSlotValue};
        while (ai < diff.accounts.size() && diff.accounts[ai].key < s.account_key) ++ai;
        if (ai == diff.accounts.size() || diff.accounts[ai].key != s.account_key) {
            return tl::unexpected{DiffError::kOrphanSlot};
        }
        if (!diff.accounts[ai].after && !s.after.empty()) return tl::unexpected{DiffError::kSlotOfDeleted};
        if (!maybe_no_op.empty()) maybe_no_op[ai] = false;  // its storage root changes
    }
    for (bool no_op : maybe_no_op) {
        if (no_op) return tl::unexpected{DiffError::kNoOpChange};
    }
    return {};
}

namespace {

void encode_optional_account(Bytes& out, const std::optional<Account>& a) {
    if (!a) {
        out.push_back(0x80);
        return;
    }
    const Bytes body = encode_account(*a);
    rlp::encode(out, body);
}

Bytes wrap_list(const Bytes& payload) {
    Bytes out;
    rlp::encode_header(out, {true, payload.size()});
    out += payload;
    return out;
}

using DecodeResult = tl::expected<void, DiffError>;

// The optional account of an account change: the empty string for none, else the account's RLP.
DecodeResult decode_optional_account(ByteView body, std::optional<Account>& out) {
    if (body.empty()) {
        out.reset();
        return {};
    }
    auto a = decode_account(body);
    if (!a || !body.empty()) return tl::unexpected{DiffError::kBadEncoding};
    out = *a;
    return {};
}

DecodeResult decode_hash(ByteView& in, Hash& out) {
    if (!rlp::decode_fixed(in, out.data(), out.size())) return tl::unexpected{DiffError::kBadEncoding};
    return {};
}

DecodeResult decode_bytes(ByteView& in, Bytes& out, std::size_t max) {
    auto s = rlp::decode_string(in);
    if (!s) return tl::unexpected{DiffError::kBadEncoding};
    if (s->size() > max) return tl::unexpected{DiffError::kTooLarge};
    out = Bytes{*s};
    return {};
}

}  // namespace

Bytes encode_state_diff(const StateDiff& diff) {
    Bytes payload;
    rlp::encode(payload, diff.block);
    rlp::encode(payload, view(diff.parent_root));
    rlp::encode(payload, view(diff.root));
    Bytes accounts;
    for (const auto& a : diff.accounts) {
        Bytes item;
        rlp::encode(item, view(a.key));
        encode_optional_account(item, a.before);
        encode_optional_account(item, a.after);
        accounts += wrap_list(item);
    }
    payload += wrap_list(accounts);
    Bytes slots;
    for (const auto& s : diff.slots) {
        Bytes item;
        rlp::encode(item, view(s.account_key));
        rlp::encode(item, view(s.slot_key));
        rlp::encode(item, s.before);
        rlp::encode(item, s.after);
        slots += wrap_list(item);
    }
    payload += wrap_list(slots);
    Bytes code;
    for (const auto& c : diff.code) rlp::encode(code, c);
    payload += wrap_list(code);
    return wrap_list(payload);
}

tl::expected<StateDiff, DiffError> decode_state_diff(ByteView in, const DiffLimits& limits) {
    if (!rlp::validate(in)) return tl::unexpected{DiffError::kBadEncoding};
    auto body = rlp::decode_list(in);
    if (!body) return tl::unexpected{DiffError::kBadEncoding};
    ByteView b = *body;
    StateDiff diff;
    auto head = rlp::decode_fields<uint64_t, Hash, Hash, rlp::List>(b);
    if (!head) return tl::unexpected{DiffError::kBadEncoding};
    rlp::List accounts;
    std::tie(diff.block, diff.parent_root, diff.root, accounts) = *head;
    for (ByteView list = accounts.payload; !list.empty();) {
        if (diff.accounts.size() >= limits.accounts) return tl::unexpected{DiffError::kTooLarge};
        auto item = rlp::decode_list<Hash, ByteView, ByteView>(list);
        if (!item) return tl::unexpected{DiffError::kBadEncoding};
        AccountChange c;
        c.key = std::get<0>(*item);
        if (auto r = decode_optional_account(std::get<1>(*item), c.before); !r) return tl::unexpected{r.error()};
        if (auto r = decode_optional_account(std::get<2>(*item), c.after); !r) return tl::unexpected{r.error()};
        diff.accounts.push_back(c);
    }
    auto slots = rlp::decode_list(b);
    if (!slots) return tl::unexpected{DiffError::kBadEncoding};
    for (ByteView list = *slots; !list.empty();) {
        if (diff.slots.size() >= limits.slots) return tl::unexpected{DiffError::kTooLarge};
        auto item = rlp::decode_list(list);
        if (!item) return tl::unexpected{DiffError::kBadEncoding};
        ByteView it = *item;
        SlotChange s;
        if (auto r = decode_hash(it, s.account_key); !r) return tl::unexpected{r.error()};
        if (auto r = decode_hash(it, s.slot_key); !r) return tl::unexpected{r.error()};
        if (auto r = decode_bytes(it, s.before, 33); !r) return tl::unexpected{r.error()};
        if (auto r = decode_bytes(it, s.after, 33); !r) return tl::unexpected{r.error()};
        if (!it.empty()) return tl::unexpected{DiffError::kBadEncoding};
        diff.slots.push_back(std::move(s));
    }
    auto code = rlp::decode_list(b);
    if (!code) return tl::unexpected{DiffError::kBadEncoding};
    for (ByteView list = *code; !list.empty();) {
        if (diff.code.size() >= limits.code) return tl::unexpected{DiffError::kTooLarge};
        Bytes c;
        if (auto r = decode_bytes(list, c, limits.code_size); !r) return tl::unexpected{r.error()};
        diff.code.push_back(std::move(c));
    }
    if (!b.empty()) return tl::unexpected{DiffError::kBadEncoding};
    if (auto r = validate(diff); !r) return tl::unexpected{r.error()};
    return diff;
}

tl::expected<StateDiff, DiffError> decode_state_diff(ByteView in) {
    // The block number comes first in the list: peek at it to pick the limits.
    ByteView b = in;
    auto body = rlp::decode_list(b);
    if (!body) return tl::unexpected{DiffError::kBadEncoding};
    ByteView fields = *body;
    auto block = rlp::decode_uint64(fields);
    if (!block) return tl::unexpected{DiffError::kBadEncoding};
    return decode_state_diff(in, *block == 0 ? kStateDiffLimits : kBlockDiffLimits);
}

}  // namespace carousel::state
