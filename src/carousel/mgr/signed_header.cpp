// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "signed_header.hpp"

#include <algorithm>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp.hpp>

namespace carousel::mgr {
namespace {

constexpr std::string_view kDomain = "carousel-header-v1";

Hash digest_of(const Header& h) {
    Bytes payload;
    rlp::encode(payload, h.number);
    rlp::encode(payload, view(h.state_root));
    Bytes message{view(kDomain)};
    rlp::encode_header(message, {true, payload.size()});
    message += payload;
    return keccak256(message);
}

}  // namespace

std::string_view to_string(HeaderError e) noexcept {
    switch (e) {
        case HeaderError::kMalformed:
            return "malformed signed header";
        case HeaderError::kBadRootLength:
            return "state root is not 32 bytes";
        case HeaderError::kBadSignatureLength:
            return "header signature is not 64 bytes";
    }
    return "unknown header error";
}

SignedHeader sign_header(const dht::KeyPair& bridge, const Header& header) {
    return SignedHeader{header, dht::sign(bridge, digest_of(header))};
}

bool verify_header(const SignedHeader& signed_header, const dht::PublicKey& trusted) {
    return dht::verify(view(trusted), digest_of(signed_header.header), view(signed_header.signature));
}

Bytes encode(const SignedHeader& signed_header) {
    Bytes payload;
    rlp::encode(payload, signed_header.header.number);
    rlp::encode(payload, view(signed_header.header.state_root));
    rlp::encode(payload, view(signed_header.signature));
    Bytes out;
    rlp::encode_header(out, {true, payload.size()});
    out += payload;
    return out;
}

tl::expected<SignedHeader, HeaderError> decode_signed_header(ByteView encoded) {
    if (!rlp::validate(encoded)) return tl::unexpected{HeaderError::kMalformed};
    auto list = rlp::decode_list(encoded);
    if (!list || !encoded.empty()) return tl::unexpected{HeaderError::kMalformed};
    ByteView in = *list;
    SignedHeader out;
    const auto number = rlp::decode_uint64(in);
    if (!number) return tl::unexpected{HeaderError::kMalformed};
    out.header.number = *number;
    const auto root = rlp::decode_string(in);
    if (!root) return tl::unexpected{HeaderError::kMalformed};
    if (root->size() != 32) return tl::unexpected{HeaderError::kBadRootLength};
    out.header.state_root = to_hash(*root);
    const auto signature = rlp::decode_string(in);
    if (!signature) return tl::unexpected{HeaderError::kMalformed};
    if (signature->size() != out.signature.size()) return tl::unexpected{HeaderError::kBadSignatureLength};
    std::copy(signature->begin(), signature->end(), out.signature.begin());
    if (!in.empty()) return tl::unexpected{HeaderError::kMalformed};
    return out;
}

std::optional<dht::PublicKey> parse_public_key(std::string_view text) {
    if (text.substr(0, 2) != "0x" || text.size() != 2 + 66) return std::nullopt;
    const auto bytes = from_hex(text.substr(2));
    if (!bytes || !dht::node_id_of(*bytes)) return std::nullopt;
    dht::PublicKey key{};
    std::copy(bytes->begin(), bytes->end(), key.begin());
    return key;
}

}  // namespace carousel::mgr
