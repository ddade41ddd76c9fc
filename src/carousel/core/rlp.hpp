// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Recursive Length Prefix (Yellow Paper, Appendix B), strict.
//
// Decoders take peer bytes. They consume what they read from the front of a `ByteView&` (as
// silkworm's rlp/decode.hpp and leveldb's GetVarint32) and never read past its end. Every
// non-canonical form is an error: a single byte below 0x80 wrapped as a string, the long form for
// a length below 56, leading zeros in a length or an integer, and lengths that run past the input.

#include <cstdint>
#include <string_view>

#include <tl/expected.hpp>

#include "bytes.hpp"

namespace carousel::rlp {

enum class [[nodiscard]] DecodingError{
    kInputTooShort = 1,       // the input ends before the item (or its declared length) does
    kInputTooLong,            // bytes are left after the item(s) that must fill the input
    kLeadingZero,             // a length-of-length or an integer starts with a zero byte
    kNonCanonicalSize,        // long form used for a payload shorter than 56 bytes
    kNonCanonicalSingleByte,  // a single byte below 0x80 encoded as a one-byte string
    kOverflow,                // a length or an integer does not fit the target type
    kUnexpectedList,          // a string was expected
    kUnexpectedString,        // a list was expected
    kUnexpectedLength,        // a fixed-size string (a hash, an address) has another length
    kUnexpectedListElements,  // a list has more or fewer elements than its type allows
    kTooDeep,                 // lists nested deeper than kMaxDepth
};

std::string_view to_string(DecodingError e) noexcept;

template <class T>
using Result = tl::expected<T, DecodingError>;
using DecodingResult = tl::expected<void, DecodingError>;

// Deepest list nesting validate() and generic decoders accept.
inline constexpr std::size_t kMaxDepth = 64;

struct Header {
    bool list{false};
    std::size_t payload_length{0};
};

// Decodes an item header and consumes it, leaving `from` at the payload. Guarantees that
// `payload_length <= from.size()` on success. A single byte below 0x80 is its own payload: the
// header then consumes nothing and reports payload_length 1.
Result<Header> decode_header(ByteView& from) noexcept;

// Decodes a string item and consumes it; returns its payload (a view into the input).
Result<ByteView> decode_string(ByteView& from) noexcept;

// Decodes a string item of exactly `N` bytes into `out`.
DecodingResult decode_fixed(ByteView& from, uint8_t* out, std::size_t n) noexcept;

// Decodes an unsigned integer (big-endian, no leading zeros, zero as the empty string).
Result<uint64_t> decode_uint64(ByteView& from) noexcept;

// Decodes an unsigned integer of at most 32 bytes into its minimal big-endian bytes (a view into the
// input; empty for zero). Rejects leading zeros and more than 32 bytes.
Result<ByteView> decode_uint256(ByteView& from) noexcept;

// Decodes a list header and consumes it; returns the list's payload and advances `from` past it.
Result<ByteView> decode_list(ByteView& from) noexcept;

// Checks that `from` is exactly one well-formed item, recursively strict, nested at most kMaxDepth.
DecodingResult validate(ByteView from) noexcept;

// ---- encoding -----------------------------------------------------------------------------------

// Bytes of the header for a payload of `payload_length` bytes.
std::size_t header_length(std::size_t payload_length) noexcept;
void encode_header(Bytes& to, Header h);

// Encoded length of the string `s` (header included).
std::size_t length(ByteView s) noexcept;
std::size_t length(uint64_t n) noexcept;

void encode(Bytes& to, ByteView s);
void encode(Bytes& to, uint64_t n);
// Encodes a big-endian unsigned integer, dropping its leading zero bytes.
void encode_uint_be(Bytes& to, ByteView big_endian);

// Writes the header of a string or list at `out` and returns the number of bytes written (at most 9).
// For hot paths that build nodes in place.
std::size_t write_header(uint8_t* out, bool list, std::size_t payload_length) noexcept;

}  // namespace carousel::rlp
