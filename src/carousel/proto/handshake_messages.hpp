// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The wire messages of the connection handshake (dht/handshake.hpp) and their codecs.
//
// A frame is `[u8 type][RLP body]`, as every carousel message (endpoint.hpp). Decoders take peer
// bytes: strict RLP (non-canonical input is an error), exact item counts, every length checked
// against its bound before anything is copied, and a named error for what is wrong.
//
//   HELLO  0x08  [version, record, nonce]
//   AUTH   0x09  [signature]
//
//  - version: an RLP integer, kHandshakeVersion (1). Any other value is kUnsupportedVersion.
//  - record: the sender's EIP-778 node record in its encoding (dht::NodeRecord::encoded()), carried
//    as one opaque RLP string of 1..kMaxHelloRecordBytes bytes. This codec only bounds its size; the
//    handshake decodes it and checks its signature.
//  - nonce: exactly kHandshakeNonceBytes (32) bytes, fresh for each connection: the challenge the
//    other side signs.
//  - signature: exactly kAuthSignatureBytes (64) bytes, r || s (dht/node_key.hpp), over the digest
//    dht/handshake.hpp defines.
//
// Decisions:
//  - The types 0x08 and 0x09 sit in the gap after the DHT's 0x01..0x04 and before prefix sync's
//    0x10..0x13 (mgr uses 0x20..0x26): a handshake frame is recognised by one range check.
//  - The record cap is kMaxHelloRecordBytes = 300, EIP-778's cap. proto does not depend on dht, so the
//    cap is stated here and dht/handshake.cpp asserts it equals dht::kMaxRecordBytes.

#include <array>
#include <cstdint>
#include <string_view>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>

namespace carousel::proto {

enum class HandshakeMessageType : uint8_t {
    kHello = 0x08,
    kAuth = 0x09,
};

// Whether a frame type byte is a handshake message (0x08..0x09).
constexpr bool is_handshake_message(uint8_t type) noexcept {
    return type >= static_cast<uint8_t>(HandshakeMessageType::kHello) &&
           type <= static_cast<uint8_t>(HandshakeMessageType::kAuth);
}

inline constexpr uint64_t kHandshakeVersion = 1;
inline constexpr std::size_t kMaxHelloRecordBytes = 300;  // == dht::kMaxRecordBytes (asserted there)
inline constexpr std::size_t kHandshakeNonceBytes = 32;
inline constexpr std::size_t kAuthSignatureBytes = 64;

using HandshakeNonce = std::array<uint8_t, kHandshakeNonceBytes>;
using AuthSignature = std::array<uint8_t, kAuthSignatureBytes>;

// The first frame each side sends on a new connection: who it is, and the challenge for the other.
struct Hello {
    uint64_t version{kHandshakeVersion};
    Bytes record;  // an encoded dht::NodeRecord, opaque here
    HandshakeNonce nonce{};
    friend bool operator==(const Hello&, const Hello&) = default;
};

// The answer to the other side's HELLO: the signature of its challenge.
struct Auth {
    AuthSignature signature{};
    friend bool operator==(const Auth&, const Auth&) = default;
};

enum class [[nodiscard]] HandshakeWireError{
    kEmptyFrame = 1,      // no type byte
    kWrongType,           // the type byte is not the message the decoder reads
    kMalformed,           // not the message's RLP shape (strict RLP, exact item counts)
    kUnsupportedVersion,  // a HELLO version other than kHandshakeVersion
    kBadRecordLength,     // a record that is empty or over kMaxHelloRecordBytes
    kBadNonceLength,      // a nonce that is not exactly 32 bytes
    kBadSignatureLength,  // a signature that is not exactly 64 bytes
};
std::string_view to_string(HandshakeWireError e) noexcept;

template <class T>
using HandshakeResult = tl::expected<T, HandshakeWireError>;

// Frames (type byte included). The encoder does not check the caps: a HELLO with another version or
// an oversized record gives a frame peers reject.
Bytes encode(const Hello& m);
Bytes encode(const Auth& m);

// Decoders take the whole frame (type byte included) and check it is the expected type.
HandshakeResult<Hello> decode_hello(ByteView frame);
HandshakeResult<Auth> decode_auth(ByteView frame);

}  // namespace carousel::proto
