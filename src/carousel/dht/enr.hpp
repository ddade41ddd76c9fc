// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// NodeRecord: an Ethereum Node Record (EIP-778) with the "v4" identity scheme, as a Merry-Go-Round
// contact carries it: who a node is (its secp256k1 key, hence its id) and where to reach it, signed
// by that key, so that nobody can announce a place in the key space without the key.
//
//  - Encoding: rlp([signature, seq, k1, v1, k2, v2, ...]), keys sorted and unique (bytewise), at most
//    300 bytes. The values are RLP items, kept as they came so the record re-encodes exactly.
//  - v4: signature = secp256k1 ECDSA over keccak256(rlp([seq, k, v, ...])), 64 bytes r || s (no
//    recovery id), low S (a malleated high-S signature is refused, as go-ethereum refuses it); the
//    "secp256k1" value is the 33-byte compressed public key; the node id is keccak256(x || y) of
//    the uncompressed key.
//  - Text: "enr:" + base64url of the encoding, without padding.
// decode() and from_text() take peer bytes: every failure is a named EnrError and nothing is read
// past a bound. A record with a bad signature does not decode.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>

#include "node_key.hpp"

namespace carousel::dht {

inline constexpr std::size_t kMaxRecordBytes = 300;

enum class [[nodiscard]] EnrError{
    kTooLarge = 1,   // more than kMaxRecordBytes
    kBadEncoding,    // not an RLP list of [signature, seq, k, v, ...], or trailing bytes
    kKeysNotSorted,  // keys out of order or repeated
    kNoIdentity,     // no "id" key, or a scheme other than "v4"
    kBadPublicKey,   // no "secp256k1" key, or not a valid compressed point
    kBadSignature,   // not 64 bytes, high S, or not by the record's key
    kBadText,        // not "enr:" + base64url
};
std::string_view to_string(EnrError e) noexcept;

class NodeRecord {
  public:
    // The key/value pairs besides "id" and "secp256k1" (which sign() sets): key -> an RLP item.
    using Pairs = std::map<std::string, Bytes>;

    // A record of `pairs` at `seq`, signed by `key`.
    static tl::expected<NodeRecord, EnrError> sign(uint64_t seq, Pairs pairs, const KeyPair& key);
    // A record from its encoding or text form, its signature verified.
    static tl::expected<NodeRecord, EnrError> decode(ByteView encoded);
    static tl::expected<NodeRecord, EnrError> from_text(std::string_view text);

    const Bytes& encoded() const noexcept { return encoded_; }
    std::string to_text() const;
    uint64_t seq() const noexcept { return seq_; }
    const Hash& node_id() const noexcept { return node_id_; }
    // Every pair, "id" and "secp256k1" included: key -> its RLP item.
    const Pairs& pairs() const noexcept { return pairs_; }
    // A value that is an RLP string: its payload (nullopt if absent or not a string).
    std::optional<Bytes> string_value(std::string_view key) const;
    // A value that is an RLP unsigned integer up to 64 bits (ports, radius).
    std::optional<uint64_t> uint_value(std::string_view key) const;

  private:
    uint64_t seq_{0};
    Pairs pairs_;
    Bytes encoded_;
    Hash node_id_{};
};

// base64url without padding (RFC 4648 section 5), as the text form uses it.
std::string base64url_encode(ByteView in);
std::optional<Bytes> base64url_decode(std::string_view in);

}  // namespace carousel::dht
