// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "account.hpp"

#include <carousel/core/rlp_list.hpp>

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
    // A missing or extra field is kUnexpectedListElements (a short list, not a short input).
    auto fields = rlp::decode_list<uint64_t, rlp::Uint256Bytes, Hash, Hash>(from);
    if (!fields) return tl::unexpected{fields.error()};
    const auto& [nonce, balance, storage_root, code_hash] = *fields;
    Account a;
    a.nonce = nonce;
    a.balance = *U256::from_big_endian(balance.bytes);  // at most 32 bytes: cannot fail
    a.storage_root = storage_root;
    a.code_hash = code_hash;
    return a;
}

}  // namespace carousel::state
