// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "enr.hpp"

#include <algorithm>
#include <cstring>

#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp.hpp>

#include <secp256k1.h>

namespace carousel::dht {
namespace {

// One context for every call: secp256k1 contexts are safe to share once created.
const secp256k1_context* context() {
    static secp256k1_context* const kContext = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    return kContext;
}

ByteView view(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// keccak256(x || y) of a public key.
Hash id_of(const secp256k1_pubkey& key) {
    std::array<uint8_t, 65> full{};
    std::size_t n = full.size();
    secp256k1_ec_pubkey_serialize(context(), full.data(), &n, &key, SECP256K1_EC_UNCOMPRESSED);
    return keccak256(ByteView{full.data() + 1, 64});
}

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
        case EnrError::kBadSecretKey:
            return "secret key out of range";
    }
    return "unknown record error";
}

tl::expected<KeyPair, EnrError> KeyPair::from_secret(ByteView secret) {
    KeyPair k;
    if (secret.size() != k.secret.size()) return tl::unexpected{EnrError::kBadSecretKey};
    std::copy(secret.begin(), secret.end(), k.secret.begin());
    secp256k1_pubkey pub;
    if (secp256k1_ec_seckey_verify(context(), k.secret.data()) != 1 ||
        secp256k1_ec_pubkey_create(context(), &pub, k.secret.data()) != 1) {
        return tl::unexpected{EnrError::kBadSecretKey};
    }
    std::size_t n = k.public_key.size();
    secp256k1_ec_pubkey_serialize(context(), k.public_key.data(), &n, &pub, SECP256K1_EC_COMPRESSED);
    k.node_id = id_of(pub);
    return k;
}

tl::expected<NodeRecord, EnrError> NodeRecord::sign(uint64_t seq, Pairs pairs, const KeyPair& key) {
    pairs["id"] = string_item(view("v4"));
    pairs["secp256k1"] = string_item(ByteView{key.public_key.data(), key.public_key.size()});
    const Hash digest = keccak256(encode_record(std::nullopt, seq, pairs));
    secp256k1_ecdsa_signature sig;
    if (secp256k1_ecdsa_sign(context(), &sig, digest.data(), key.secret.data(), nullptr, nullptr) != 1) {
        return tl::unexpected{EnrError::kBadSecretKey};
    }
    std::array<uint8_t, 64> compact{};
    secp256k1_ecdsa_signature_serialize_compact(context(), compact.data(), &sig);
    Bytes encoded = encode_record(ByteView{compact.data(), compact.size()}, seq, pairs);
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
    secp256k1_pubkey pub;
    if (!public_key || public_key->size() != 33 ||
        secp256k1_ec_pubkey_parse(context(), &pub, public_key->data(), public_key->size()) != 1) {
        return tl::unexpected{EnrError::kBadPublicKey};
    }
    secp256k1_ecdsa_signature sig;
    if (signature->size() != 64 || secp256k1_ecdsa_signature_parse_compact(context(), &sig, signature->data()) != 1) {
        return tl::unexpected{EnrError::kBadSignature};
    }
    const Hash digest = keccak256(encode_record(std::nullopt, r.seq_, r.pairs_));
    // secp256k1_ecdsa_verify refuses a high-S signature: the record must carry the low-S form.
    if (secp256k1_ecdsa_verify(context(), &sig, digest.data(), &pub) != 1) {
        return tl::unexpected{EnrError::kBadSignature};
    }
    r.encoded_ = Bytes{encoded};
    r.node_id_ = id_of(pub);
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
