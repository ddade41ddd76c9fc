// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "enr.hpp"

#include <algorithm>
#include <cstring>

#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp.hpp>

namespace carousel::dht {
namespace {

// rlp([signature, seq, k, v, ...]), the record; without a signature rlp([seq, k, v, ...]), what the
// signature covers.
Bytes encode_record(std::optional<ByteView> signature, uint64_t seq, const NodeRecord::Pairs& pairs) {
    Bytes payload;
    if (signature) rlp::encode(payload, *signature);
    rlp::encode(payload, seq);
    for (const auto& [k, v] : pairs) {
        rlp::encode(payload, view(k));
        payload += v;
    }
    Bytes out;
    rlp::encode_header(out, {true, payload.size()});
    out += payload;
    return out;
}

Bytes string_item(ByteView s) {
    Bytes out;
    rlp::encode(out, s);
    return out;
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

std::string_view to_string(EnrError e) noexcept {
    switch (e) {
        case EnrError::kTooLarge:
            return "record larger than 300 bytes";
        case EnrError::kBadEncoding:
            return "malformed record encoding";
        case EnrError::kKeysNotSorted:
            return "record keys not sorted or repeated";
        case EnrError::kNoIdentity:
            return "record without the v4 identity scheme";
        case EnrError::kBadPublicKey:
            return "record without a valid secp256k1 public key";
        case EnrError::kBadSignature:
            return "record signature invalid";
        case EnrError::kBadText:
            return "not an enr: text record";
    }
    return "unknown record error";
}

tl::expected<NodeRecord, EnrError> NodeRecord::sign(uint64_t seq, Pairs pairs, const KeyPair& key) {
    pairs["id"] = string_item(view("v4"));
    pairs["secp256k1"] = string_item(view(key.public_key));
    const Signature compact = dht::sign(key, keccak256(encode_record(std::nullopt, seq, pairs)));
    Bytes encoded = encode_record(view(compact), seq, pairs);
    if (encoded.size() > kMaxRecordBytes) return tl::unexpected{EnrError::kTooLarge};
    NodeRecord r;
    r.seq_ = seq;
    r.pairs_ = std::move(pairs);
    r.encoded_ = std::move(encoded);
    r.node_id_ = key.node_id;
    return r;
}

tl::expected<NodeRecord, EnrError> NodeRecord::decode(ByteView encoded) {
    if (encoded.size() > kMaxRecordBytes) return tl::unexpected{EnrError::kTooLarge};
    ByteView in = encoded;
    auto list = rlp::decode_list(in);
    if (!list || !in.empty()) return tl::unexpected{EnrError::kBadEncoding};
    ByteView body = *list;
    auto signature = rlp::decode_string(body);
    auto seq = rlp::decode_uint64(body);
    if (!signature || !seq) return tl::unexpected{EnrError::kBadEncoding};
    NodeRecord r;
    r.seq_ = *seq;
    std::optional<std::string> previous;
    while (!body.empty()) {
        auto key = rlp::decode_string(body);
        if (!key || body.empty()) return tl::unexpected{EnrError::kBadEncoding};
        const ByteView value_start = body;
        auto header = rlp::decode_header(body);
        if (!header) return tl::unexpected{EnrError::kBadEncoding};
        body.remove_prefix(header->payload_length);
        const ByteView value = value_start.substr(0, value_start.size() - body.size());
        if (!rlp::validate(value)) return tl::unexpected{EnrError::kBadEncoding};
        std::string k{reinterpret_cast<const char*>(key->data()), key->size()};
        if (previous && k <= *previous) return tl::unexpected{EnrError::kKeysNotSorted};
        previous = k;
        r.pairs_.emplace(std::move(k), Bytes{value});
    }
    if (r.string_value("id") != Bytes{view("v4")}) return tl::unexpected{EnrError::kNoIdentity};
    const auto public_key = r.string_value("secp256k1");
    const auto node_id = public_key ? node_id_of(*public_key) : std::nullopt;
    if (!node_id) return tl::unexpected{EnrError::kBadPublicKey};
    // verify() refuses a high-S signature: the record must carry the low-S form.
    if (!verify(*public_key, keccak256(encode_record(std::nullopt, r.seq_, r.pairs_)), *signature)) {
        return tl::unexpected{EnrError::kBadSignature};
    }
    r.encoded_ = Bytes{encoded};
    r.node_id_ = *node_id;
    return r;
}

tl::expected<NodeRecord, EnrError> NodeRecord::from_text(std::string_view text) {
    constexpr std::string_view kPrefix = "enr:";
    if (text.substr(0, kPrefix.size()) != kPrefix || text.size() > kPrefix.size() + (kMaxRecordBytes * 4 + 2) / 3) {
        return tl::unexpected{EnrError::kBadText};
    }
    const auto bytes = base64url_decode(text.substr(kPrefix.size()));
    if (!bytes) return tl::unexpected{EnrError::kBadText};
    return decode(*bytes);
}

std::string NodeRecord::to_text() const { return "enr:" + base64url_encode(encoded_); }

std::optional<Bytes> NodeRecord::string_value(std::string_view key) const {
    const auto it = pairs_.find(std::string{key});
    if (it == pairs_.end()) return std::nullopt;
    ByteView in = it->second;
    auto s = rlp::decode_string(in);
    if (!s || !in.empty()) return std::nullopt;
    return Bytes{*s};
}

std::optional<uint64_t> NodeRecord::uint_value(std::string_view key) const {
    const auto it = pairs_.find(std::string{key});
    if (it == pairs_.end()) return std::nullopt;
    ByteView in = it->second;
    auto n = rlp::decode_uint64(in);
    if (!n || !in.empty()) return std::nullopt;
    return *n;
}

std::string base64url_encode(ByteView in) {
    std::string out;
    out.reserve((in.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
        for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
    }
    if (const std::size_t rest = in.size() - i; rest > 0) {
        uint32_t v = uint32_t{in[i]} << 16;
        if (rest == 2) v |= uint32_t{in[i + 1]} << 8;
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        if (rest == 2) out.push_back(kAlphabet[(v >> 6) & 63]);
    }
    return out;
}

std::optional<Bytes> base64url_decode(std::string_view in) {
    if (in.size() % 4 == 1) return std::nullopt;
    Bytes out;
    out.reserve(in.size() * 3 / 4);
    uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        const char* at = std::strchr(kAlphabet, c);
        if (c == '\0' || at == nullptr) return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(at - kAlphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<uint8_t>(acc >> bits));
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return std::nullopt;  // leftover bits must be zero (canonical form)
    return out;
}

}  // namespace carousel::dht
