// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// One decoder for RLP lists of known shape: the field types are template arguments, and the result
// is a tuple of them or the first error, so a typed decoder (an account, a wire message) names its
// fields once instead of decoding and checking them one by one:
//
//   auto f = rlp::decode_list<uint64_t, rlp::Uint256Bytes, Hash, Hash>(from);  // an account
//   if (!f) return tl::unexpected{f.error()};
//   auto& [nonce, balance, storage_root, code_hash] = *f;
//
// Field types and what each accepts (every one strict, as rlp.hpp; none reads past its input, and
// every length is checked against the input before anything is read or copied):
//   uint64_t               an unsigned integer of at most 8 bytes (decode_uint64)
//   std::array<uint8_t, N> a string of exactly N bytes, such as a Hash (decode_fixed)
//   ByteView               any string: its payload, a view into the input (decode_string)
//   Bytes                  any string, copied
//   Uint256Bytes           an unsigned integer of at most 32 bytes: its minimal big-endian bytes
//   List                   any list: its payload, a view into the input, items not yet decoded
// Fields are decoded in order and the first error is returned, so a caller that maps every error
// to one code of its own sees the same code whichever field is bad. Checks beyond the shape (caps,
// ranges, flags) stay with the caller, in the order its format defines.

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>

#include "bytes.hpp"
#include "rlp.hpp"

namespace carousel::rlp {

// A field that is a list: its payload, to be read by the caller.
struct List {
    ByteView payload;
};

// A field that is an unsigned integer of up to 256 bits: its minimal big-endian bytes (empty for 0).
struct Uint256Bytes {
    ByteView bytes;
};

namespace detail {

inline DecodingResult decode_field(ByteView& from, uint64_t& out) noexcept {
    auto v = decode_uint64(from);
    if (!v) return tl::unexpected{v.error()};
    out = *v;
    return {};
}

template <std::size_t N>
DecodingResult decode_field(ByteView& from, std::array<uint8_t, N>& out) noexcept {
    return decode_fixed(from, out.data(), N);
}

inline DecodingResult decode_field(ByteView& from, ByteView& out) noexcept {
    auto s = decode_string(from);
    if (!s) return tl::unexpected{s.error()};
    out = *s;
    return {};
}

inline DecodingResult decode_field(ByteView& from, Bytes& out) {
    auto s = decode_string(from);
    if (!s) return tl::unexpected{s.error()};
    out.assign(*s);
    return {};
}

inline DecodingResult decode_field(ByteView& from, Uint256Bytes& out) noexcept {
    auto s = decode_uint256(from);
    if (!s) return tl::unexpected{s.error()};
    out.bytes = *s;
    return {};
}

inline DecodingResult decode_field(ByteView& from, List& out) noexcept {
    auto l = decode_list(from);
    if (!l) return tl::unexpected{l.error()};
    out.payload = *l;
    return {};
}

}  // namespace detail

// Decodes the fields Ts... from the front of `from`, the payload of a list, and consumes them;
// items after them stay in `from`. A field missing (`from` ends first) is kUnexpectedListElements;
// a field of the wrong shape is the error of its decoder (see the table above).
template <class... Ts>
Result<std::tuple<Ts...>> decode_fields(ByteView& from) {
    std::tuple<Ts...> out;
    DecodingResult status;
    std::apply(
        [&](Ts&... field) {
            (void)((status = from.empty() ? DecodingResult{tl::unexpected{DecodingError::kUnexpectedListElements}}
                                          : detail::decode_field(from, field))
                       .has_value() &&
                   ...);
        },
        out);
    if (!status) return tl::unexpected{status.error()};
    return out;
}

// Decodes a list item whose elements are exactly the fields Ts..., and consumes it: the errors of
// the non-template decode_list for the list itself, then those of decode_fields, then
// kUnexpectedListElements if the list has more elements.
template <class... Ts>
Result<std::tuple<Ts...>> decode_list(ByteView& from) {
    auto payload = decode_list(from);
    if (!payload) return tl::unexpected{payload.error()};
    ByteView p = *payload;
    auto fields = decode_fields<Ts...>(p);
    if (!fields) return tl::unexpected{fields.error()};
    if (!p.empty()) return tl::unexpected{DecodingError::kUnexpectedListElements};
    return fields;
}

}  // namespace carousel::rlp
