// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "rlp.hpp"

#include <bit>

namespace carousel::rlp {

std::string_view to_string(DecodingError e) noexcept {
    switch (e) {
        case DecodingError::kInputTooShort:
            return "input too short";
        case DecodingError::kInputTooLong:
            return "trailing bytes after the item";
        case DecodingError::kLeadingZero:
            return "leading zero";
        case DecodingError::kNonCanonicalSize:
            return "non-canonical size (long form for a short payload)";
        case DecodingError::kNonCanonicalSingleByte:
            return "non-canonical single byte";
        case DecodingError::kOverflow:
            return "overflow";
        case DecodingError::kUnexpectedList:
            return "unexpected list";
        case DecodingError::kUnexpectedString:
            return "unexpected string";
        case DecodingError::kUnexpectedLength:
            return "unexpected length";
        case DecodingError::kUnexpectedListElements:
            return "unexpected number of list elements";
        case DecodingError::kTooDeep:
            return "lists nested too deep";
    }
    return "unknown RLP error";
}

Result<Header> decode_header(ByteView& from) noexcept {
    if (from.empty()) return tl::unexpected{DecodingError::kInputTooShort};
    const uint8_t b = from[0];
    Header h;
    if (b < 0x80) {
        h.payload_length = 1;
        return h;
    }
    if (b <= 0xb7 || (b >= 0xc0 && b <= 0xf7)) {
        h.list = b >= 0xc0;
        h.payload_length = static_cast<std::size_t>(b - (h.list ? 0xc0 : 0x80));
        from.remove_prefix(1);
        if (!h.list && h.payload_length == 1) {
            if (from.empty()) return tl::unexpected{DecodingError::kInputTooShort};
            if (from[0] < 0x80) return tl::unexpected{DecodingError::kNonCanonicalSingleByte};
        }
    } else {
        h.list = b >= 0xf8;
        const std::size_t len_of_len = static_cast<std::size_t>(b - (h.list ? 0xf7 : 0xb7));
        from.remove_prefix(1);
        if (from.size() < len_of_len) return tl::unexpected{DecodingError::kInputTooShort};
        if (from[0] == 0) return tl::unexpected{DecodingError::kLeadingZero};
        if (len_of_len > sizeof(std::size_t)) return tl::unexpected{DecodingError::kOverflow};
        std::size_t len = 0;
        for (std::size_t i = 0; i < len_of_len; ++i) len = (len << 8) | from[i];
        if (len < 56) return tl::unexpected{DecodingError::kNonCanonicalSize};
        from.remove_prefix(len_of_len);
        h.payload_length = len;
    }
    if (h.payload_length > from.size()) return tl::unexpected{DecodingError::kInputTooShort};
    return h;
}

Result<ByteView> decode_string(ByteView& from) noexcept {
    auto h = decode_header(from);
    if (!h) return tl::unexpected{h.error()};
    if (h->list) return tl::unexpected{DecodingError::kUnexpectedList};
    ByteView payload = from.substr(0, h->payload_length);
    from.remove_prefix(h->payload_length);
    return payload;
}

DecodingResult decode_fixed(ByteView& from, uint8_t* out, std::size_t n) noexcept {
    auto s = decode_string(from);
    if (!s) return tl::unexpected{s.error()};
    if (s->size() != n) return tl::unexpected{DecodingError::kUnexpectedLength};
    if (n != 0) std::memcpy(out, s->data(), n);
    return {};
}

Result<ByteView> decode_uint256(ByteView& from) noexcept {
    auto s = decode_string(from);
    if (!s) return tl::unexpected{s.error()};
    if (s->size() > 32) return tl::unexpected{DecodingError::kOverflow};
    if (!s->empty() && (*s)[0] == 0) return tl::unexpected{DecodingError::kLeadingZero};
    return *s;
}

Result<uint64_t> decode_uint64(ByteView& from) noexcept {
    auto s = decode_uint256(from);
    if (!s) return tl::unexpected{s.error()};
    if (s->size() > 8) return tl::unexpected{DecodingError::kOverflow};
    uint64_t v = 0;
    for (uint8_t b : *s) v = (v << 8) | b;
    return v;
}

Result<ByteView> decode_list(ByteView& from) noexcept {
    auto h = decode_header(from);
    if (!h) return tl::unexpected{h.error()};
    if (!h->list) return tl::unexpected{DecodingError::kUnexpectedString};
    ByteView payload = from.substr(0, h->payload_length);
    from.remove_prefix(h->payload_length);
    return payload;
}

namespace {
DecodingResult validate_items(ByteView from, std::size_t depth) noexcept {
    while (!from.empty()) {
        auto h = decode_header(from);
        if (!h) return tl::unexpected{h.error()};
        if (h->list) {
            if (depth + 1 > kMaxDepth) return tl::unexpected{DecodingError::kTooDeep};
            if (auto r = validate_items(from.substr(0, h->payload_length), depth + 1); !r) return r;
        }
        from.remove_prefix(h->payload_length);
    }
    return {};
}
}  // namespace

DecodingResult validate(ByteView from) noexcept {
    ByteView item = from;
    auto h = decode_header(item);
    if (!h) return tl::unexpected{h.error()};
    if (item.size() != h->payload_length) return tl::unexpected{DecodingError::kInputTooLong};
    if (h->list) return validate_items(item, 1);
    return {};
}

// ---- encoding -----------------------------------------------------------------------------------

namespace {
std::size_t be_length(uint64_t n) noexcept {
    return n == 0 ? 0 : (71 - static_cast<std::size_t>(std::countl_zero(n))) / 8;
}
}  // namespace

std::size_t header_length(std::size_t payload_length) noexcept {
    return payload_length < 56 ? 1 : 1 + be_length(payload_length);
}

std::size_t write_header(uint8_t* out, bool list, std::size_t payload_length) noexcept {
    const uint8_t base = list ? 0xc0 : 0x80;
    if (payload_length < 56) {
        out[0] = static_cast<uint8_t>(base + payload_length);
        return 1;
    }
    const std::size_t n = be_length(payload_length);
    out[0] = static_cast<uint8_t>(base + 55 + n);
    for (std::size_t i = 0; i < n; ++i) out[1 + i] = static_cast<uint8_t>(payload_length >> (8 * (n - 1 - i)));
    return 1 + n;
}

void encode_header(Bytes& to, Header h) {
    uint8_t buf[9];
    to.append(buf, write_header(buf, h.list, h.payload_length));
}

std::size_t length(ByteView s) noexcept {
    if (s.size() == 1 && s[0] < 0x80) return 1;
    return header_length(s.size()) + s.size();
}

std::size_t length(uint64_t n) noexcept {
    if (n < 0x80) return 1;
    return 1 + be_length(n);
}

void encode(Bytes& to, ByteView s) {
    if (s.size() != 1 || s[0] >= 0x80) encode_header(to, {false, s.size()});
    to.append(s);
}

void encode(Bytes& to, uint64_t n) {
    if (n != 0 && n < 0x80) {
        to.push_back(static_cast<uint8_t>(n));
        return;
    }
    const std::size_t len = be_length(n);
    to.push_back(static_cast<uint8_t>(0x80 + len));
    for (std::size_t i = 0; i < len; ++i) to.push_back(static_cast<uint8_t>(n >> (8 * (len - 1 - i))));
}

void encode_uint_be(Bytes& to, ByteView big_endian) {
    while (!big_endian.empty() && big_endian[0] == 0) big_endian.remove_prefix(1);
    encode(to, big_endian);
}

}  // namespace carousel::rlp
