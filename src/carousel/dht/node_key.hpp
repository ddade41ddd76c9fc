// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// A node's secp256k1 identity (the "v4" scheme of EIP-778) and the signatures made with it: node
// records (enr.hpp), the connection handshake and the signed discovery packets all sign and check
// through here, on Debian's libsecp256k1-dev.
//
//  - The node id is keccak256(x || y) of the uncompressed public key; public keys travel compressed
//    (33 bytes).
//  - sign() gives 64-byte r || s in the low-S form; verify() refuses a high-S signature (as
//    go-ethereum does), so a signature cannot be malleated into a second valid one.
//  - sign_recoverable() gives r || s || v (65 bytes, v in 0..3), as discv4 packets carry it;
//    recover() gives the public key that made it, or nothing.
// Every function that takes peer bytes checks their size and validity and never throws.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>

namespace carousel::dht {

using PublicKey = std::array<uint8_t, 33>;             // compressed
using Signature = std::array<uint8_t, 64>;             // r || s
using RecoverableSignature = std::array<uint8_t, 65>;  // r || s || recovery id

enum class [[nodiscard]] KeyError{
    kBadSecretKey = 1,  // not 32 bytes, zero, or not below the curve order
};
std::string_view to_string(KeyError e) noexcept;

// A secp256k1 key pair: the secret, its compressed public key and the node id it gives.
struct KeyPair {
    std::array<uint8_t, 32> secret{};
    PublicKey public_key{};
    Hash node_id{};

    static tl::expected<KeyPair, KeyError> from_secret(ByteView secret);
};

// The node id of a compressed public key; nullopt if it is not a valid point.
std::optional<Hash> node_id_of(ByteView public_key);

// ECDSA over a 32-byte digest (RFC 6979 nonces: the same inputs give the same signature).
Signature sign(const KeyPair& key, const Hash& digest);
// Whether `signature` (64 bytes, low S) is `public_key`'s (33 bytes) over `digest`.
bool verify(ByteView public_key, const Hash& digest, ByteView signature);

RecoverableSignature sign_recoverable(const KeyPair& key, const Hash& digest);
// The compressed public key that made `signature` (65 bytes) over `digest`; nullopt if none did.
std::optional<PublicKey> recover(const Hash& digest, ByteView signature);

}  // namespace carousel::dht
