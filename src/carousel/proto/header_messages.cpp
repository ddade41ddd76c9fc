// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "header_messages.hpp"

#include "wire_codec.hpp"

namespace carousel::proto {

using namespace wire;  // NOLINT(google-build-using-namespace): the codec helpers

Bytes encode(const GetHeaders& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    rlp::encode(p, m.first);
    rlp::encode(p, m.count);
    return frame_of(MessageType::kGetHeaders, p);
}

Bytes encode(const Headers& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    rlp::encode(p, m.latest);
    encode_string_list(p, m.headers);
    return frame_of(MessageType::kHeaders, p);
}

WireResult<GetHeaders> decode_get_headers(ByteView frame) {
    auto body = body_of(frame, MessageType::kGetHeaders);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    auto fields = fields_of<uint64_t, uint64_t, uint64_t>(in);
    if (!fields) return tl::unexpected{fields.error()};
    GetHeaders m;
    std::tie(m.request_id, m.first, m.count) = *fields;
    if (m.count > kMaxHeadersPerRequest) return tl::unexpected{WireError::kTooLarge};
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

WireResult<Headers> decode_headers(ByteView frame) {
    auto body = body_of(frame, MessageType::kHeaders);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    Headers m;
    auto id = uint_of(in);
    if (!id) return tl::unexpected{id.error()};
    m.request_id = *id;
    auto latest = string_of(in);
    if (!latest) return tl::unexpected{latest.error()};
    if (latest->size() > kMaxHeaderBytes) return tl::unexpected{WireError::kTooLarge};
    m.latest = Bytes{*latest};
    auto headers = strings_of(in, kMaxHeadersPerRequest, kMaxHeaderBytes);
    if (!headers) return tl::unexpected{headers.error()};
    m.headers = std::move(*headers);
    for (const Bytes& h : m.headers) {
        if (h.empty()) return tl::unexpected{WireError::kMalformed};
    }
    if (m.latest.empty() && !m.headers.empty()) return tl::unexpected{WireError::kMalformed};
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

}  // namespace carousel::proto
