// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The wire messages of fast prefix sync (seed 003) and their codecs, in one place.
//
// A frame is `[u8 type][RLP body]`. Every decoder takes peer bytes: it checks every length against a
// hard cap before it allocates, rejects non-canonical RLP, and names what is wrong.
//
//   GetChunks  [reqId, root, account, [prefix...], isRange, maxSize, flags]
//   ChunkData  [reqId, [entry...]]
//     full-trie entry  [prefix, [node...], stopPath]
//     leaf entry       [prefix, keys, [value...], [proofNode...], stopPath]
//     error entry      [prefix, [code, data]]
//   GetCode    [reqId, [codeHash...], maxSize]
//   CodeData   [reqId, [code...]]
//
// Decisions the seed leaves open:
//  - Prefixes and stop paths travel as nibble paths in hex-prefix form with the extension flag
//    (Yellow Paper Appendix C): the first byte's high nibble says the parity, so odd and even
//    lengths round-trip — the role the seed gives firehose's key-prefix parity scheme. An empty stop
//    path means the chunk is complete.
//  - `account` is the key of the account whose storage trie `root` is, or empty for the account
//    trie (firehose v0.2 adds the same field): it lets a server find the storage trie's flat leaves.
//  - ChunkData sends node RLP without the node's hash: the receiver must hash every node to verify
//    it anyway, so the hash would only add 33 bytes per node and one more thing to check.
//  - Leaf entries carry all keys as one string of 32-byte keys and the values as a list: per leaf
//    that is one or two bytes of framing on top of the raw key and value.
//  - Code is fetched by hash with GetCode/CodeData (snap's GetByteCodes), which the seed omits.

#include <optional>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/core/nibbles.hpp>

#include "endpoint.hpp"

namespace carousel::proto {

enum class MessageType : uint8_t {
    kGetChunks = 0x10,
    kChunkData = 0x11,
    kGetCode = 0x12,
    kCodeData = 0x13,
    // Merry-Go-Round (mgr_messages.hpp).
    kOffer = 0x20,
    kAccept = 0x21,
    kContent = 0x22,
    kGetDiff = 0x23,
    kDiffData = 0x24,
    kGetBareStorage = 0x25,
    kBareStorage = 0x26,
    kGetHeaders = 0x27,  // header_messages.hpp
    kHeaders = 0x28,
    kGetItems = 0x29,  // mgr_messages.hpp
    kItems = 0x2a,
};

// GetChunks flags.
inline constexpr uint64_t kFlagLeaves = 1 << 0;    // leaf mode: leaves plus edge proofs
inline constexpr uint64_t kFlagSkipStem = 1 << 1;  // full mode: omit the nodes above the prefix
inline constexpr uint64_t kFlagStream = 1 << 2;    // keep sending a cut chunk's continuation
inline constexpr uint64_t kKnownFlags = kFlagLeaves | kFlagSkipStem | kFlagStream;

// ChunkData error codes, as the seed lists them.
enum class ChunkError : uint8_t {
    kUnknownRoot = 0x0,     // no chunk for this root; data: the closest root the server has
    kNoChunk = 0x1,         // no chunk for this prefix
    kBackOff = 0x2,         // too many requests
    kInvalidRequest = 0x4,  // malformed or out-of-bounds request
};

// Hard caps on what a peer may send.
inline constexpr std::size_t kMaxPrefixesPerRequest = 256;
inline constexpr std::size_t kMaxNodesPerEntry = 1 << 16;
inline constexpr std::size_t kMaxLeavesPerEntry = 1 << 16;
inline constexpr std::size_t kMaxProofNodesPerEntry = 1 << 10;
inline constexpr std::size_t kMaxCodeHashes = 1 << 10;
inline constexpr std::size_t kMaxCodeSize = 1 << 17;
inline constexpr std::size_t kMaxKeyNibbles = 64;

struct GetChunks {
    uint64_t request_id{0};
    Hash root{};
    std::optional<Hash> account;    // the storage trie of this account; nullopt: the account trie
    std::vector<Nibbles> prefixes;  // unpacked; with is_range, pairs [from, to] (inclusive)
    bool is_range{false};
    uint64_t max_size{0};
    uint64_t flags{0};
    friend bool operator==(const GetChunks&, const GetChunks&) = default;
};

struct ChunkEntry {
    Nibbles prefix;  // the request's prefix (a range's start)
    // An error entry carries only these two.
    std::optional<ChunkError> error;
    Bytes error_data;
    // Full sub-trie mode: node RLP in the server's order (stem first, then the sub-trie pre-order).
    std::vector<Bytes> nodes;
    // Leaf mode: the leaves in key order, and the nodes of the two edge proofs.
    bool leaf_mode{false};
    std::vector<Hash> keys;
    std::vector<Bytes> values;
    std::vector<Bytes> proof;
    // Where the server stopped (the next path it would have sent); nullopt: the chunk is complete.
    std::optional<Nibbles> stop_path;
    friend bool operator==(const ChunkEntry&, const ChunkEntry&) = default;
};

struct ChunkData {
    uint64_t request_id{0};
    std::vector<ChunkEntry> entries;
    friend bool operator==(const ChunkData&, const ChunkData&) = default;
};

struct GetCode {
    uint64_t request_id{0};
    std::vector<Hash> hashes;
    uint64_t max_size{0};
    friend bool operator==(const GetCode&, const GetCode&) = default;
};

struct CodeData {
    uint64_t request_id{0};
    std::vector<Bytes> codes;
    friend bool operator==(const CodeData&, const CodeData&) = default;
};

enum class [[nodiscard]] WireError{
    kEmptyFrame = 1,  // no type byte
    kUnknownType,     // a type byte carousel does not know
    kMalformed,       // not the message's RLP shape (strict RLP, exact item counts)
    kTooLarge,        // a count or size over its cap
    kBadPrefix,       // a prefix or stop path that is not hex-prefix, or longer than a key
    kOddRange,        // isRange with an odd number of prefixes
    kUnknownFlag,     // flag bits carousel does not know
    kBadErrorCode,    // an error code the seed does not list
};
std::string_view to_string(WireError e) noexcept;

template <class T>
using WireResult = tl::expected<T, WireError>;

// Frames (type byte included).
Bytes encode(const GetChunks& m);
Bytes encode(const ChunkData& m);
Bytes encode(const GetCode& m);
Bytes encode(const CodeData& m);

// The type of a frame; checks only the first byte.
WireResult<MessageType> frame_type(ByteView frame);

// Decoders take the whole frame (type byte included) and check it is the expected type.
WireResult<GetChunks> decode_get_chunks(ByteView frame);
WireResult<ChunkData> decode_chunk_data(ByteView frame);
WireResult<GetCode> decode_get_code(ByteView frame);
WireResult<CodeData> decode_code_data(ByteView frame);

// Encoded size of one entry's payload as it would travel (for a server cutting at maxSize).
std::size_t encoded_size(const ChunkEntry& e);

}  // namespace carousel::proto
