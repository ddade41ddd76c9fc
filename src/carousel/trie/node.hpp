// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Merkle Patricia Trie node codec (Yellow Paper, Appendix D).
//
//   leaf      [HP(path, leaf=true),  value]
//   extension [HP(path, leaf=false), child]
//   branch    [child_0, ..., child_15, value]
//
// A child reference is the empty string (no child), the 32-byte Keccak hash of the child's RLP, or,
// when that RLP is shorter than 32 bytes, the child's RLP itself embedded in the parent.
//
// decode_node() takes peer bytes and is strict: it accepts exactly the encodings that encode_*()
// produce for a well-formed trie, and names every other shape as an error.

#include <array>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/core/nibbles.hpp>

namespace carousel::trie {

enum class NodeKind : uint8_t { kLeaf, kExtension, kBranch };

enum class [[nodiscard]] NodeError{
    kBadRlp = 1,           // not one well-formed RLP list
    kBadItemCount,         // a list that is neither 2 nor 17 items long
    kBadPath,              // the hex-prefix path is malformed
    kEmptyExtensionPath,   // an extension with no nibbles
    kEmptyLeafValue,       // a leaf whose value is empty (a deleted key has no leaf)
    kBadChildReference,    // a child that is neither empty, a 32-byte hash, nor an embedded node
    kEmbeddedTooLong,      // an embedded child whose RLP is 32 bytes or longer (must be hashed)
    kEmptyExtensionChild,  // an extension whose child is empty
    kSparseBranch,         // a branch with fewer than two entries (it should have been collapsed)
    kPathTooLong,          // a path that runs past the maximum key length
};

std::string_view to_string(NodeError e) noexcept;

// A decoded node. Views point into the RLP it was decoded from, which must outlive it.
struct Node {
    NodeKind kind{NodeKind::kLeaf};
    Nibbles path;                       // leaf and extension: the node's partial path
    ByteView value;                     // leaf: its value; branch: the value slot (usually empty)
    std::array<ByteView, 16> children;  // branch: slots 0..15; extension: children[0] is its child
};

// A child reference is a hash when it is exactly 32 bytes long; shorter references are embedded RLP.
inline bool is_hash_reference(ByteView ref) noexcept { return ref.size() == 32; }

// Longest path (in nibbles) a node may carry: keys of up to 32 bytes for hashed tries; plain tries
// (ethereum/tests) use longer raw keys, so the codec allows up to kMaxKeyNibbles.
inline constexpr std::size_t kMaxKeyNibbles = std::size_t{2} * 1024;

tl::expected<Node, NodeError> decode_node(ByteView rlp);

// Encoders append the node's RLP to `out`. Child references are passed as described above
// (empty, 32-byte hash, or embedded RLP of fewer than 32 bytes).
void encode_leaf(Bytes& out, ByteView path, ByteView value);
void encode_extension(Bytes& out, ByteView path, ByteView child_ref);
void encode_branch(Bytes& out, const std::array<ByteView, 16>& children, ByteView value);

// The reference a parent stores for a child with RLP `rlp`: the RLP itself if shorter than 32 bytes,
// else its Keccak-256 hash. Writes at most 32 bytes to `out` and returns the reference's length.
std::size_t make_reference(ByteView rlp, uint8_t* out) noexcept;
Bytes make_reference(ByteView rlp);

// Appends a child reference as an RLP item: a hash or the empty string as a string; an embedded node
// as its raw RLP (it is already a list).
void append_reference(Bytes& out, ByteView ref);
// Encoded size of a child reference as an item of its parent.
inline std::size_t reference_item_length(ByteView ref) noexcept {
    return ref.size() == 32 ? 33 : (ref.empty() ? 1 : ref.size());
}

}  // namespace carousel::trie
