// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "region_item.hpp"

#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp.hpp>
#include <carousel/trie/node.hpp>

namespace carousel::mgr {

std::string_view to_string(GossipError e) noexcept {
    switch (e) {
        case GossipError::kMalformed:
            return "malformed item";
        case GossipError::kTooLarge:
            return "item over a size cap";
        case GossipError::kBadRegion:
            return "bad region";
        case GossipError::kOwnersNotIncreasing:
            return "owners not strictly increasing";
        case GossipError::kLengthMismatch:
            return "storage node lists do not match owners";
        case GossipError::kBadNode:
            return "bad trie node";
        case GossipError::kDuplicateNode:
            return "duplicate node";
        case GossipError::kWrongBlock:
            return "not the next block";
        case GossipError::kWrongRegion:
            return "another region";
        case GossipError::kRootMismatch:
            return "state root differs from the trusted root";
        case GossipError::kBadOwnerProof:
            return "owner proof does not verify";
        case GossipError::kIncomplete:
            return "new partial tries do not resolve";
        case GossipError::kUnusedNode:
            return "node not used by any new partial trie";
        case GossipError::kMissingOwner:
            return "changed storage root without an owner entry";
        case GossipError::kNotSeeded:
            return "store not seeded";
        case GossipError::kNotPresent:
            return "owner listed as present has no leaf in the region";
    }
    return "unknown gossip error";
}

namespace {

template <class T>
using Result = tl::expected<T, GossipError>;

void wrap(Bytes& out, const Bytes& payload) {
    rlp::encode_header(out, {true, payload.size()});
    out += payload;
}

void encode_nodes(Bytes& out, const std::vector<Bytes>& nodes) {
    Bytes payload;
    for (const Bytes& n : nodes) rlp::encode(payload, n);
    wrap(out, payload);
}

Result<ByteView> list_of(ByteView& in) {
    auto l = rlp::decode_list(in);
    if (!l) return tl::unexpected{GossipError::kMalformed};
    return *l;
}

Result<Hash> hash_of(ByteView& in) {
    Hash h;
    if (!rlp::decode_fixed(in, h.data(), h.size())) return tl::unexpected{GossipError::kMalformed};
    return h;
}

// A list of trie nodes: each a string of 32..kMaxNodeSize bytes that decodes as a node.
Result<std::vector<Bytes>> nodes_of(ByteView& in) {
    auto l = list_of(in);
    if (!l) return tl::unexpected{l.error()};
    std::vector<Bytes> out;
    for (ByteView p = *l; !p.empty();) {
        if (out.size() >= kMaxItemNodes) return tl::unexpected{GossipError::kTooLarge};
        auto s = rlp::decode_string(p);
        if (!s) return tl::unexpected{GossipError::kMalformed};
        if (s->size() > kMaxNodeSize) return tl::unexpected{GossipError::kTooLarge};
        if (s->size() < 32 || !trie::decode_node(*s)) return tl::unexpected{GossipError::kBadNode};
        out.emplace_back(*s);
    }
    return out;
}

}  // namespace

Bytes encode_region_item(const RegionItem& item) {
    Bytes payload;
    rlp::encode(payload, item.block_number);
    rlp::encode(payload, view(item.state_root));
    Bytes region;
    rlp::encode(region, view(item.region.first));
    rlp::encode(region, uint64_t{item.region.bits});
    wrap(payload, region);
    encode_nodes(payload, item.account_nodes);
    Bytes owners;
    for (const Hash& o : item.owners) rlp::encode(owners, view(o));
    wrap(payload, owners);
    encode_nodes(payload, item.owner_proof);
    Bytes storage;
    for (const auto& list : item.storage_nodes) encode_nodes(storage, list);
    wrap(payload, storage);
    Bytes out;
    wrap(out, payload);
    return out;
}

tl::expected<RegionItem, GossipError> decode_region_item(ByteView in) {
    if (in.size() > kMaxRegionItemSize) return tl::unexpected{GossipError::kTooLarge};
    if (!rlp::validate(in)) return tl::unexpected{GossipError::kMalformed};
    auto body = list_of(in);
    if (!body || !in.empty()) return tl::unexpected{GossipError::kMalformed};
    ByteView p = *body;
    RegionItem item;

    auto number = rlp::decode_uint64(p);
    if (!number) return tl::unexpected{GossipError::kMalformed};
    item.block_number = *number;
    auto root = hash_of(p);
    if (!root) return tl::unexpected{root.error()};
    item.state_root = *root;

    auto region = list_of(p);
    if (!region) return tl::unexpected{region.error()};
    auto first = hash_of(*region);
    if (!first) return tl::unexpected{first.error()};
    auto bits = rlp::decode_uint64(*region);
    if (!bits || !region->empty()) return tl::unexpected{GossipError::kMalformed};
    if (*bits > 256) return tl::unexpected{GossipError::kBadRegion};
    item.region = Region{*first, static_cast<unsigned>(*bits)};
    if (dht::region_first(item.region.first, dht::Radius{item.region.bits}) != item.region.first) {
        return tl::unexpected{GossipError::kBadRegion};
    }

    auto account_nodes = nodes_of(p);
    if (!account_nodes) return tl::unexpected{account_nodes.error()};
    item.account_nodes = std::move(*account_nodes);

    auto owners = list_of(p);
    if (!owners) return tl::unexpected{owners.error()};
    for (ByteView o = *owners; !o.empty();) {
        if (item.owners.size() >= kMaxItemOwners) return tl::unexpected{GossipError::kTooLarge};
        auto h = hash_of(o);
        if (!h) return tl::unexpected{h.error()};
        if (!item.owners.empty() && !(item.owners.back() < *h)) {
            return tl::unexpected{GossipError::kOwnersNotIncreasing};
        }
        item.owners.push_back(*h);
    }

    auto proof = nodes_of(p);
    if (!proof) return tl::unexpected{proof.error()};
    item.owner_proof = std::move(*proof);

    auto storage = list_of(p);
    if (!storage) return tl::unexpected{storage.error()};
    for (ByteView s = *storage; !s.empty();) {
        if (item.storage_nodes.size() >= item.owners.size()) return tl::unexpected{GossipError::kLengthMismatch};
        auto list = nodes_of(s);
        if (!list) return tl::unexpected{list.error()};
        item.storage_nodes.push_back(std::move(*list));
    }
    if (item.storage_nodes.size() != item.owners.size()) return tl::unexpected{GossipError::kLengthMismatch};
    if (!p.empty()) return tl::unexpected{GossipError::kMalformed};
    return item;
}

Hash content_id(const RegionItem& item) { return keccak256(encode_region_item(item)); }

std::size_t node_bytes(const RegionItem& item) noexcept {
    std::size_t n = 0;
    for (const Bytes& b : item.account_nodes) n += b.size();
    for (const Bytes& b : item.owner_proof) n += b.size();
    for (const auto& list : item.storage_nodes) {
        for (const Bytes& b : list) n += b.size();
    }
    return n;
}

}  // namespace carousel::mgr
