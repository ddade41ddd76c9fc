// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Small strict RLP helpers shared by the wire codecs of proto/ (messages, mgr_messages). Decoders take peer bytes:
// every helper fails with a WireError rather than read past its input, and strings_of checks counts and sizes against
// the caller's caps before it copies.

#include <optional>
#include <tuple>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/core/nibbles.hpp>
#include <carousel/core/rlp.hpp>
#include <carousel/core/rlp_list.hpp>

#include "prefix_messages.hpp"

namespace carousel::proto::wire {

// ---- encoding helpers ---------------------------------------------------------------------------

inline void wrap_list(Bytes& out, const Bytes& payload) {
    rlp::encode_header(out, {true, payload.size()});
    out += payload;
}

inline Bytes frame_of(MessageType type, const Bytes& payload) {
    Bytes out;
    out.push_back(static_cast<uint8_t>(type));
    wrap_list(out, payload);
    return out;
}

inline void encode_path(Bytes& out, ByteView nibbles) { rlp::encode(out, encode_hex_prefix(nibbles, false)); }
// Encoded length of encode_path's item.
inline std::size_t path_length(ByteView nibbles) { return rlp::length(encode_hex_prefix(nibbles, false)); }

// Encoded length of a list with a payload of `payload` bytes.
inline std::size_t list_length(std::size_t payload) noexcept { return rlp::header_length(payload) + payload; }

// Payload length of encode_string_list's list.
template <class Range>
std::size_t string_list_payload(const Range& items) noexcept {
    std::size_t n = 0;
    for (const auto& i : items) n += rlp::length(ByteView{i});
    return n;
}

// Appends the list of `items` as strings, written in place (its length is known first: a chunk's
// nodes run to megabytes, and building the payload apart copied them once more).
template <class Range>
void encode_string_list(Bytes& out, const Range& items) {
    rlp::encode_header(out, {true, string_list_payload(items)});
    for (const auto& i : items) rlp::encode(out, ByteView{i});
}

// ---- decoding helpers ---------------------------------------------------------------------------

template <class T>
using R = WireResult<T>;

inline R<ByteView> body_of(ByteView frame, MessageType expected) {
    if (frame.empty()) return tl::unexpected{WireError::kEmptyFrame};
    if (frame[0] != static_cast<uint8_t>(expected)) return tl::unexpected{WireError::kUnknownType};
    ByteView body = frame.substr(1);
    if (!rlp::validate(body)) return tl::unexpected{WireError::kMalformed};
    auto list = rlp::decode_list(body);
    if (!list) return tl::unexpected{WireError::kMalformed};
    return *list;
}

// The fields Ts... from the front of `in` (rlp::decode_fields): kMalformed for any of them that is
// missing or of the wrong shape.
template <class... Ts>
R<std::tuple<Ts...>> fields_of(ByteView& in) {
    auto f = rlp::decode_fields<Ts...>(in);
    if (!f) return tl::unexpected{WireError::kMalformed};
    return std::move(*f);
}

inline R<ByteView> list_of(ByteView& in) {
    auto l = rlp::decode_list(in);
    if (!l) return tl::unexpected{WireError::kMalformed};
    return *l;
}

inline R<ByteView> string_of(ByteView& in) {
    auto s = rlp::decode_string(in);
    if (!s) return tl::unexpected{WireError::kMalformed};
    return *s;
}

inline R<uint64_t> uint_of(ByteView& in) {
    auto v = rlp::decode_uint64(in);
    if (!v) return tl::unexpected{WireError::kMalformed};
    return *v;
}

inline R<Hash> hash_of(ByteView& in) {
    Hash h;
    if (!rlp::decode_fixed(in, h.data(), h.size())) return tl::unexpected{WireError::kMalformed};
    return h;
}

inline R<Nibbles> path_of(ByteView& in) {
    auto s = string_of(in);
    if (!s) return tl::unexpected{s.error()};
    auto p = decode_hex_prefix(*s);
    if (!p || p->leaf || p->nibbles.size() > kMaxKeyNibbles) return tl::unexpected{WireError::kBadPrefix};
    return std::move(p->nibbles);
}

inline R<std::optional<Nibbles>> optional_path_of(ByteView& in) {
    ByteView peek = in;
    auto s = string_of(peek);
    if (!s) return tl::unexpected{s.error()};
    if (s->empty()) {
        in = peek;
        return std::optional<Nibbles>{};
    }
    auto p = path_of(in);
    if (!p) return tl::unexpected{p.error()};
    return std::optional<Nibbles>{std::move(*p)};
}

inline R<std::vector<Bytes>> strings_of(ByteView& in, std::size_t max_count, std::size_t max_size) {
    auto l = list_of(in);
    if (!l) return tl::unexpected{l.error()};
    std::vector<Bytes> out;
    for (ByteView p = *l; !p.empty();) {
        if (out.size() >= max_count) return tl::unexpected{WireError::kTooLarge};
        auto s = string_of(p);
        if (!s) return tl::unexpected{s.error()};
        if (s->size() > max_size) return tl::unexpected{WireError::kTooLarge};
        out.emplace_back(*s);
    }
    return out;
}

inline R<void> must_be_empty(ByteView in) {
    if (!in.empty()) return tl::unexpected{WireError::kMalformed};
    return {};
}

inline std::size_t count_items(ByteView list) {
    std::size_t n = 0;
    while (!list.empty()) {
        auto h = rlp::decode_header(list);
        if (!h) return 0;  // validated before: cannot happen
        list.remove_prefix(h->payload_length);
        ++n;
    }
    return n;
}

}  // namespace carousel::proto::wire
