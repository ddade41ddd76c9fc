// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "bridge.hpp"

#include <carousel/trie/trie.hpp>

namespace carousel::mgr {
namespace {

Hash storage_root_of(const std::optional<state::Account>& a) { return a ? a->storage_root : trie::kEmptyRoot; }

}  // namespace

tl::expected<std::vector<RegionItem>, PartialError> build_region_items(const trie::NodeStore& full_state_nodes,
                                                                       uint64_t number, const Hash& old_root,
                                                                       const Hash& new_root,
                                                                       const state::StateDiff& diff,
                                                                       std::span<const Region> regions) {
    struct Owner {
        Hash key;
        Hash old_root;
        Hash new_root;
    };
    std::vector<Owner> owners;
    for (const auto& change : diff.accounts) {
        const Hash before = storage_root_of(change.before);
        const Hash after = storage_root_of(change.after);
        if (before != after) owners.push_back({change.key, before, after});
    }
    std::vector<Bytes> proof;
    if (!owners.empty()) {
        trie::ReadOnlyNodeStore ro{full_state_nodes};
        trie::Trie t{&ro, new_root};
        std::vector<Bytes> keys;
        keys.reserve(owners.size());
        for (const Owner& o : owners) keys.emplace_back(view(o.key));
        auto p = t.prove(keys);
        if (!p) {
            return tl::unexpected{p.error() == trie::TrieError::kMissingNode ? PartialError::kMissingNode
                                                                             : PartialError::kBadNode};
        }
        proof = std::move(*p);
    }

    std::vector<RegionItem> items;
    items.reserve(regions.size());
    for (const Region& region : regions) {
        RegionItem item;
        item.block_number = number;
        item.state_root = new_root;
        item.region = region;
        auto account_nodes = changed_partial_nodes(full_state_nodes, old_root, new_root, path_range(region));
        if (!account_nodes) return tl::unexpected{account_nodes.error()};
        item.account_nodes = std::move(*account_nodes);
        item.owner_proof = proof;
        item.owners.reserve(owners.size());
        item.storage_nodes.reserve(owners.size());
        for (const Owner& o : owners) {
            item.owners.push_back(o.key);
            const trie::PathRange range = path_range(storage_region(region, o.key));
            auto was_present = has_leaf_in(full_state_nodes, o.old_root, range);
            if (!was_present) return tl::unexpected{was_present.error()};
            auto nodes = changed_partial_nodes(full_state_nodes, *was_present ? o.old_root : trie::kEmptyRoot,
                                               o.new_root, range);
            if (!nodes) return tl::unexpected{nodes.error()};
            item.storage_nodes.push_back(std::move(*nodes));
        }
        items.push_back(std::move(item));
    }
    return items;
}

NodeOptions Bridge::origin_only(NodeOptions options) noexcept {
    options.origin_only = true;
    return options;
}

Bridge::Bridge(const dht::KeyPair& key, const dht::NodeEndpoint& endpoint, NodeOptions options, HeaderSource headers)
    : node_(key, endpoint, origin_only(options), std::move(headers)), regions_(all_regions(options.region_bits)) {}

tl::expected<BlockGossip, PartialError> cut_block(const trie::NodeStore& full_state_nodes, uint64_t number,
                                                  const Hash& old_root, const Hash& new_root,
                                                  const state::StateDiff& diff, std::span<const Region> regions) {
    auto items = build_region_items(full_state_nodes, number, old_root, new_root, diff, regions);
    if (!items) return tl::make_unexpected(items.error());
    return BlockGossip{number, std::move(*items), diff.code, {}};
}

tl::expected<BlockGossip, PartialError> Bridge::cut(const trie::NodeStore& full_state_nodes, uint64_t number,
                                                    const Hash& old_root, const Hash& new_root,
                                                    const state::StateDiff& diff) const {
    return cut_block(full_state_nodes, number, old_root, new_root, diff, regions_);
}

void Bridge::publish(const BlockGossip& block, proto::Time now) {
    node_.publish(block.items, block.code, now, block.header);
}

}  // namespace carousel::mgr
