// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "synthetic_accounts.hpp"

#include <algorithm>

#include <carousel/core/keccak.hpp>
#include <carousel/state/account.hpp>

namespace carousel::app {

namespace {
Hash key_of(uint64_t i) {
    uint8_t be[8];
    for (int b = 0; b < 8; ++b) be[b] = static_cast<uint8_t>(i >> (56 - 8 * b));
    return keccak256(ByteView{be, 8});
}

Bytes value_of(uint64_t i) {
    state::Account a;
    a.nonce = i;
    a.balance = state::U256{i};
    return state::encode_account(a);
}
}  // namespace

std::vector<SyntheticLeaf> synthetic_accounts(uint64_t n, Order order, const std::function<void(uint64_t)>& progress) {
    std::vector<std::pair<Hash, uint64_t>> keys(n);
    for (uint64_t i = 0; i < n; ++i) {
        keys[i] = {key_of(i), i};
        if (progress && (i & 0xffff) == 0) progress(i / 2);
    }
    if (order == Order::kKey) std::sort(keys.begin(), keys.end());
    std::vector<SyntheticLeaf> leaves(n);
    for (uint64_t j = 0; j < n; ++j) {
        leaves[j].key = keys[j].first;
        leaves[j].value = value_of(keys[j].second);
        if (progress && (j & 0xffff) == 0) progress(n / 2 + j / 2);
    }
    if (progress) progress(n);
    return leaves;
}

}  // namespace carousel::app
