// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// What MgrSync's source files share and nothing else includes: a few helpers on leaves and
// accounts, and MgrSync::take_answer (a template its answer handlers in several files use).
// MgrSync is one class over these files:
//  - mgr_sync.cpp: the Endpoint, the walk (account regions, then the storage lap), forward leaf
//    ranges and rolls at a boundary (GetChunks, GetDiff), code, and the final check;
//  - mgr_sync_requests.cpp: requests and peers: the pool's options, tracking and taking requests,
//    strikes, error entries, the choice of a covering peer (CoveringPeers);
//  - mgr_sync_bare.cpp: bare storage: the owner walk with GetBareStorage and settling a trie with
//    bare parts by its rebuilt root;
//  - mgr_sync_head.cpp: following the head after the sync, and re-anchoring at a boundary.
//  - mgr_sync_headers.cpp: headers from the network (take_headers: the poll, Headers and
//    GetHeaders) and book_chain.

#include <optional>

#include <carousel/core/keccak.hpp>
#include <carousel/state/account.hpp>
#include <carousel/trie/leaf_range.hpp>

#include "mgr_sync.hpp"

namespace carousel::mgr::sync_parts {

inline ByteView view(const Hash& h) { return ByteView{h.data(), h.size()}; }

inline std::optional<state::Account> account_of(ByteView rlp) {
    ByteView in = rlp;
    auto a = state::decode_account(in);
    if (!a || !in.empty()) return std::nullopt;
    return *a;
}

// The digest of `owner`'s leaves in a region: Keccak of every key and length-prefixed value in order (without the
// lengths, one leaf whose value holds the next key and value would digest the same as the two).
inline Hash digest_of(const SyncLeaves& leaves, const LeafOwner& owner, const Region& block) {
    Bytes all;
    leaves.visit(owner, block.first, last_key(block), [&all](const Hash& key, ByteView value) {
        all.append(key.data(), key.size());
        const auto n = static_cast<uint32_t>(value.size());
        const uint8_t length[4] = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                                   static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
        all.append(length, sizeof length);
        all.append(value);
    });
    return keccak256(all);
}

// A leaf-mode answer to a range from `origin` to `limit` at `root`, checked (trie/leaf_range.hpp):
// how many of its leading keys lie in the range.
inline tl::expected<std::size_t, trie::LeafRangeError> verify_leaves(const Hash& root, const Hash& origin,
                                                                     const Hash& limit, const proto::ChunkEntry& e) {
    return trie::verify_leaf_range(root, view(origin), view(limit), e.keys, e.values, e.proof, e.stop_path.has_value());
}

}  // namespace carousel::mgr::sync_parts

namespace carousel::mgr {

template <class Message>
std::optional<std::pair<Message, MgrSync::Request>> MgrSync::take_answer(proto::PeerId from, ByteView frame,
                                                                         Request::Kind kind,
                                                                         proto::WireResult<Message> (*decode)(ByteView),
                                                                         std::string_view name, proto::Time now) {
    auto data = decode(frame);
    if (!data) {
        disconnect(from, "mgr sync: bad " + std::string{name} + ": " + std::string{proto::to_string(data.error())});
        return std::nullopt;
    }
    auto taken = take(data->request_id, from, static_cast<uint8_t>(kind), frame.size(), now);
    if (!taken) return std::nullopt;
    return std::pair<Message, Request>{std::move(*data), std::move(*taken)};
}

}  // namespace carousel::mgr
