// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// MgrNode's radius change (mgr_node.hpp, MgrNode::set_radius): which stores a block has, shrinking
// to a storage budget, and growing, whose new regions are filled by the join's fill machinery
// (mgr/mgr_node_join.cpp).

#include <algorithm>

#include "mgr_node.hpp"

namespace carousel::mgr {

namespace {
// A node covers at most 2^16 regions (placement's regions_in).
constexpr unsigned kMaxRegionSpan = 16;

// `block` with key bit `bit` (0: the lowest) flipped.
Region flip(Region block, unsigned bit) {
    block.first[31 - bit / 8] = static_cast<uint8_t>(block.first[31 - bit / 8] ^ (1u << (bit % 8)));
    return block;
}
}  // namespace

std::vector<Region> MgrNode::place_stores(const Region& block) {
    std::vector<RegionStore> stores;
    std::vector<Region> added;
    for (const Region& region : regions_in(block, options_.region_bits)) {
        const auto it = std::find_if(stores_.begin(), stores_.end(), [&](const RegionStore& s) {
            return s.store != nullptr && s.store->region() == region;
        });
        if (it != stores_.end()) {
            stores.push_back(std::move(*it));  // with its server
            continue;
        }
        stores.push_back(serve(std::make_unique<EpochStore>(region, options_.epoch_length)));
        added.push_back(region);
    }
    for (const RegionStore& s : stores_) {
        if (s.store != nullptr) item_log_.forget(s.store->region().first);  // a store that goes
    }
    stores_ = std::move(stores);
    // What belonged to dropped stores: their waiting items, the items (and code) held to offer on,
    // their filling flags.
    std::erase_if(waiting_, [&](const auto& w) { return !contains(block, w.first.first); });
    router_.keep_only(block);
    std::erase_if(filling_, [&](const Hash& first) { return !contains(block, first); });
    return added;
}

void MgrNode::set_radius(dht::Radius radius, proto::Time now) {
    radius.bits = std::clamp(radius.bits, options_.region_bits, std::min(256u, options_.region_bits + kMaxRegionSpan));
    at(now);
    const Region block = region_of(id(), radius);
    if (block == covered_) return;
    const Region old = covered_;
    // Announced from now on: the record, re-signed with seq + 1, goes to the table's contacts in a
    // PING (Discovery keeps a newer record), and they route the new regions' gossip here.
    announce_radius(radius, now);

    const std::set<Hash> filling_before = filling_;
    const std::vector<Region> added = place_stores(block);
    if (added.empty()) {
        // Shrunk: the code outside the block goes, and a running fill keeps to what is left.
        code_.erase_if([&](const Hash& h) { return !contains(block, h); });
        std::vector<Region> code_regions;
        for (const Region& b : fill_code_regions_) {
            if (const auto in = intersect(b, block)) code_regions.push_back(*in);
        }
        fill_code_regions_ = std::move(code_regions);
        if (filling_ != filling_before) restart_fill(now);
        return;
    }
    // Grown. A running fill (a join, a refill, an earlier growth) is abandoned; one fill takes every
    // region not filled, and the code it was after plus the added part of the block: the sibling of
    // the old block at each level up to the new one.
    if (!fill_) fill_code_regions_.clear();
    abandon_fill();
    for (unsigned bits = old.bits; bits < block.bits; ++bits) {
        fill_code_regions_.push_back(flip(region_of(id(), dht::Radius{bits}), bits));
    }
    grow_ = FillRecord{};
    grow_->started_at = now;
    grow_->regions = added;
    for (const Region& region : added) filling_.insert(region.first);
    start_fill(now);
}

void MgrNode::look_up_self(proto::Time now) {
    at(now);
    overlay_.discovery().start_lookup(id(), now, [](const std::vector<dht::Contact>&) {});
    // Kademlia's bucket refresh above the own region: a key in each sibling block. A lookup of the
    // own id meets only the nodes near it; cover_gaps() needs each of these buckets to hold a node
    // when the network has one there (else it takes an empty bucket for a gap to cover).
    if (options_.origin_only) return;
    for (unsigned bits = options_.region_bits; bits < 256; ++bits) {
        const Hash sibling = flip(region_of(id(), dht::Radius{bits}), bits).first;
        overlay_.discovery().start_lookup(sibling, now, [](const std::vector<dht::Contact>&) {});
    }
}

dht::Radius MgrNode::cover_gaps(proto::Time now) {
    const unsigned cap = std::min(256u, options_.region_bits + kMaxRegionSpan);
    if (options_.origin_only) return radius();
    const unsigned bits =
        std::min(cap, overlay_.discovery().table().covering_bits(covered_.bits, options_.region_bits));
    if (bits <= covered_.bits) return radius();
    const bool seeded =
        std::any_of(stores_.begin(), stores_.end(), [](const RegionStore& s) { return s.store->seeded(); });
    if (seeded) {
        set_radius(dht::Radius{bits}, now);
        return radius();
    }
    announce_radius(dht::Radius{bits}, now);
    (void)place_stores(covered_);
    return radius();
}

dht::Radius MgrNode::shrink_to_fit(uint64_t budget_bytes, proto::Time now) {
    const auto bytes_within = [&](const Region& block) {
        uint64_t sum = 0;
        for (const auto& s : stores_) {
            if (contains(block, s.store->region())) sum += s.store->byte_size();
        }
        return sum;
    };
    unsigned bits = covered_.bits;
    while (bits > options_.region_bits && bytes_within(region_of(id(), dht::Radius{bits})) > budget_bytes) {
        --bits;
    }
    set_radius(dht::Radius{bits}, now);
    return radius();
}

}  // namespace carousel::mgr
