// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "handshake_messages.hpp"

#include <algorithm>

#include "wire_codec.hpp"

namespace carousel::proto {

std::string_view to_string(HandshakeWireError e) noexcept {
    switch (e) {
        case HandshakeWireError::kEmptyFrame:
            return "empty frame";
        case HandshakeWireError::kWrongType:
            return "unexpected message type";
        case HandshakeWireError::kMalformed:
            return "malformed message";
        case HandshakeWireError::kUnsupportedVersion:
            return "unsupported handshake version";
        case HandshakeWireError::kBadRecordLength:
            return "node record empty or over 300 bytes";
        case HandshakeWireError::kBadNonceLength:
            return "nonce is not 32 bytes";
        case HandshakeWireError::kBadSignatureLength:
            return "signature is not 64 bytes";
    }
    return "unknown handshake wire error";
}

namespace {

template <class T>
using R = HandshakeResult<T>;

// wire_codec's helpers fail only with kMalformed for the shapes read here (they name prefix sync's
// WireError); their failures are this codec's kMalformed.
template <class T>
R<T> shape(wire::R<T> r) {
    if (!r) return tl::unexpected{HandshakeWireError::kMalformed};
    return std::move(*r);
}

Bytes frame_of(HandshakeMessageType type, const Bytes& payload) {
    Bytes out;
    out.reserve(1 + wire::list_length(payload.size()));
    out.push_back(static_cast<uint8_t>(type));
    wire::wrap_list(out, payload);
    return out;
}

// The payload of the body's top-level list, after checking the type byte and that the body is one
// strict RLP item and nothing more.
R<ByteView> body_of(ByteView frame, HandshakeMessageType expected) {
    if (frame.empty()) return tl::unexpected{HandshakeWireError::kEmptyFrame};
    if (frame[0] != static_cast<uint8_t>(expected)) return tl::unexpected{HandshakeWireError::kWrongType};
    ByteView body = frame.substr(1);
    if (!rlp::validate(body)) return tl::unexpected{HandshakeWireError::kMalformed};
    return shape(wire::list_of(body));
}

// A string of exactly N bytes: a string of another length is `wrong_length`, anything else that is
// not a string kMalformed.
template <std::size_t N>
R<std::array<uint8_t, N>> fixed_of(ByteView& in, HandshakeWireError wrong_length) {
    auto s = shape(wire::string_of(in));
    if (!s) return tl::unexpected{s.error()};
    if (s->size() != N) return tl::unexpected{wrong_length};
    std::array<uint8_t, N> out{};
    std::copy(s->begin(), s->end(), out.begin());
    return out;
}

}  // namespace

Bytes encode(const Hello& m) {
    Bytes payload;
    rlp::encode(payload, m.version);
    rlp::encode(payload, ByteView{m.record});
    rlp::encode(payload, view(m.nonce));
    return frame_of(HandshakeMessageType::kHello, payload);
}

Bytes encode(const Auth& m) {
    Bytes payload;
    rlp::encode(payload, view(m.signature));
    return frame_of(HandshakeMessageType::kAuth, payload);
}

HandshakeResult<Hello> decode_hello(ByteView frame) {
    auto body = body_of(frame, HandshakeMessageType::kHello);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    Hello m;
    auto version = shape(wire::uint_of(in));
    if (!version) return tl::unexpected{version.error()};
    if (*version != kHandshakeVersion) return tl::unexpected{HandshakeWireError::kUnsupportedVersion};
    m.version = *version;
    auto record = shape(wire::string_of(in));
    if (!record) return tl::unexpected{record.error()};
    if (record->empty() || record->size() > kMaxHelloRecordBytes) {
        return tl::unexpected{HandshakeWireError::kBadRecordLength};
    }
    auto nonce = fixed_of<kHandshakeNonceBytes>(in, HandshakeWireError::kBadNonceLength);
    if (!nonce) return tl::unexpected{nonce.error()};
    if (!wire::must_be_empty(in)) return tl::unexpected{HandshakeWireError::kMalformed};
    m.record = Bytes{*record};
    m.nonce = *nonce;
    return m;
}

HandshakeResult<Auth> decode_auth(ByteView frame) {
    auto body = body_of(frame, HandshakeMessageType::kAuth);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    auto signature = fixed_of<kAuthSignatureBytes>(in, HandshakeWireError::kBadSignatureLength);
    if (!signature) return tl::unexpected{signature.error()};
    if (!wire::must_be_empty(in)) return tl::unexpected{HandshakeWireError::kMalformed};
    return Auth{*signature};
}

}  // namespace carousel::proto
