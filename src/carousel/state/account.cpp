// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "account.hpp"

namespace carousel::state {

void encode_account(Bytes& to, const Account& a) {
    const Bytes balance = a.balance.to_big_endian();
    const std::size_t payload = rlp::length(a.nonce) + rlp::length(ByteView{balance}) + std::size_t{2} * (1 + 32);
    rlp::encode_header(to, {true, payload});
    rlp::encode(to, a.nonce);
    rlp::encode(to, ByteView{balance});
    rlp::encode(to, view(a.storage_root));
    rlp::encode(to, view(a.code_hash));
}

Bytes encode_account(const Account& a) {
    Bytes out;
    out.reserve(80);
    encode_account(out, a);
    return out;
}

rlp::Result<Account> decode_account(ByteView& from) noexcept {
    auto payload = rlp::decode_list(from);
    if (!payload) return tl::unexpected{payload.error()};
    ByteView p = *payload;
    Account a;
    // A missing field is a short list, not a short input.
    auto need_field = [&p]() -> rlp::DecodingResult {
        if (p.empty()) return tl::unexpected{rlp::DecodingError::kUnexpectedListElements};
        return {};
    };

    if (auto r = need_field(); !r) return tl::unexpected{r.error()};
    auto nonce = rlp::decode_uint64(p);
    if (!nonce) return tl::unexpected{nonce.error()};
    a.nonce = *nonce;

    if (auto r = need_field(); !r) return tl::unexpected{r.error()};
    auto balance = rlp::decode_uint256(p);
    if (!balance) return tl::unexpected{balance.error()};
    a.balance = *U256::from_big_endian(*balance);  // at most 32 bytes: cannot fail

    if (auto r = need_field(); !r) return tl::unexpected{r.error()};
    if (auto r = rlp::decode_fixed(p, a.storage_root.data(), a.storage_root.size()); !r) {
        return tl::unexpected{r.error()};
    }
    if (auto r = need_field(); !r) return tl::unexpected{r.error()};
    if (auto r = rlp::decode_fixed(p, a.code_hash.data(), a.code_hash.size()); !r) return tl::unexpected{r.error()};

    if (!p.empty()) return tl::unexpected{rlp::DecodingError::kUnexpectedListElements};
    return a;
}

}  // namespace carousel::state
