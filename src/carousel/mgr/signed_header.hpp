// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// SignedHeader: where Merry-Go-Round nodes and clients learn the chain's head (block number, state
// root) without trusting the peers that tell them. It stands in for a consensus light client (a
// beacon-chain sync committee, as Portal and Helios use): the bridge signs each header with its
// secp256k1 key, and a node or client accepts only headers signed by the public key it was given
// (`--trust-bridge 0xPUBKEY`). Everything else a node holds is checked against these roots.
//
//   encoding  rlp([number, state_root, signature])
//   signature sign(bridge key, keccak256("carousel-header-v1" || rlp([number, state_root])))
//             64 bytes r || s, low S (dht/node_key.hpp)
//
// decode() takes peer bytes: every failure is a named HeaderError; verify() checks the signature
// against the trusted key. A header that verifies is as good as the bridge's word: the bridge is
// trusted for the chain's head, exactly as a light client trusts its sync committee.

#include <cstdint>
#include <optional>
#include <string_view>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/dht/node_key.hpp>

namespace carousel::mgr {

struct Header {
    uint64_t number{0};
    Hash state_root{};
    friend bool operator==(const Header&, const Header&) = default;
};

struct SignedHeader {
    Header header;
    dht::Signature signature{};
    friend bool operator==(const SignedHeader&, const SignedHeader&) = default;
};

enum class [[nodiscard]] HeaderError{
    kMalformed = 1,       // not rlp([number, root, signature]) exactly
    kBadRootLength,       // a state root that is not 32 bytes
    kBadSignatureLength,  // a signature that is not 64 bytes
};
std::string_view to_string(HeaderError e) noexcept;

SignedHeader sign_header(const dht::KeyPair& bridge, const Header& header);
// Whether `signed_header` was signed by `trusted` (a compressed public key).
bool verify_header(const SignedHeader& signed_header, const dht::PublicKey& trusted);

Bytes encode(const SignedHeader& signed_header);
tl::expected<SignedHeader, HeaderError> decode_signed_header(ByteView encoded);

// Parses a `--trust-bridge` value: "0x" and 66 hex digits of a valid compressed public key.
std::optional<dht::PublicKey> parse_public_key(std::string_view text);

}  // namespace carousel::mgr
