// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "covering_peers.hpp"

#include <algorithm>
#include <iterator>

#include <carousel/core/hex.hpp>

namespace carousel::mgr {

CoveringPeers::CoveringPeers(ContactSource contacts, dht::PeerPool& pool, const std::vector<Region>& regions,
                             unsigned region_bits, proto::Time unserved_timeout, ConnectedFn connected, RoomFn room)
    : contacts_(std::move(contacts)),
      connected_(std::move(connected)),
      room_(std::move(room)),
      pool_(pool),
      regions_(regions),
      region_bits_(region_bits),
      unserved_timeout_(unserved_timeout) {}

void CoveringPeers::remember(std::size_t region_index, std::vector<dht::Contact> found) {
    std::vector<dht::Contact>& known = found_[region_index];
    for (dht::Contact& c : found) {
        const auto same = std::find_if(known.begin(), known.end(), [&](const dht::Contact& k) { return k.id == c.id; });
        if (same != known.end()) {
            *same = std::move(c);  // its newest record and radius
        } else if (known.size() < kMaxFound) {
            known.push_back(std::move(c));
        }
    }
}

void CoveringPeers::forget(proto::PeerId peer) {
    for (auto& [_, contacts] : found_) {
        std::erase_if(contacts, [&](const dht::Contact& c) { return c.peer == peer; });
    }
}

std::optional<proto::PeerId> CoveringPeers::pick(const Hash& position, proto::Time now,
                                                 const std::set<proto::PeerId>& avoid) {
    // The table's covering contacts join what earlier picks and lookups found for the region, so a
    // node the table drops (Discovery's timeouts, on a link busy with answers) stays a candidate.
    const std::size_t region_index = mgr::region_index(position, region_bits_);
    remember(region_index, contacts_.covering(position));
    std::vector<dht::Contact> candidates;
    for (const dht::Contact& c : found_[region_index]) {
        if (dht::covers(c.id, c.radius, position)) candidates.push_back(c);
    }
    dht::PeerPool::Choice choice = pool_.choose(candidates, now, avoid);
    if (choice.peer && connected_ && !connected_(*choice.peer)) {
        // Prefer a connected candidate that can take the request (see the header).
        std::vector<dht::Contact> connected;
        std::copy_if(candidates.begin(), candidates.end(), std::back_inserter(connected),
                     [&](const dht::Contact& c) { return connected_(c.peer); });
        if (const auto near = pool_.choose(connected, now, avoid); near.peer) {
            choice.peer = near.peer;
        } else if (room_ && !room_()) {
            choice.peer.reset();  // every connected one is busy, and no slot for another
        }
    }
    if (choice.usable) {
        unserved_since_.erase(region_index);
    } else {
        const proto::Time since = unserved_since_.try_emplace(region_index, now).first->second;
        if (now >= since + unserved_timeout_ && failure_.empty()) {
            // What became of the covering nodes, each counted once (the table's and the lookup's).
            std::set<proto::PeerId> known;
            std::size_t banned = 0;
            std::size_t behind = 0;
            for (const dht::Contact& c : candidates) {
                if (!known.insert(c.peer).second) continue;
                if (pool_.banned(c.peer)) {
                    ++banned;
                } else if (pool_.connected(c.peer) && pool_.paused(c.peer, now)) {
                    ++behind;
                }
            }
            const Region& region = regions_[region_index];
            failure_ = "no honest node serves region 0x" + to_hex(ByteView{region.first.data(), 4}) + "…/" +
                       std::to_string(region.bits) + " (" + std::to_string(known.size()) +
                       " covering nodes known: " + std::to_string(banned) + " banned, " + std::to_string(behind) +
                       " behind the chain, " + std::to_string(known.size() - banned - behind) + " unreachable) for " +
                       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - since).count()) + " s";
        }
    }
    const auto last = last_lookup_.find(region_index);
    const bool recently = last != last_lookup_.end() && now < last->second + std::chrono::seconds{2};
    // Paused nodes (behind the chain for a moment) come back by themselves: a lookup is for when
    // every known one is banned or could not be reached.
    const bool none_left = std::none_of(candidates.begin(), candidates.end(), [&](const dht::Contact& c) {
        return pool_.connected(c.peer) && !pool_.banned(c.peer);
    });
    if (!choice.peer && none_left && !looking_up_.contains(region_index) && !recently) {
        last_lookup_[region_index] = now;
        looking_up_.insert(region_index);
        ++lookups_;
        contacts_.lookup(regions_[region_index].first, now, [this, region_index](std::vector<dht::Contact> closest) {
            looking_up_.erase(region_index);
            // The k closest to the region's first key: those covering it are the region's nodes.
            std::erase_if(closest, [&](const dht::Contact& c) {
                return !dht::covers(c.id, c.radius, regions_[region_index].first);
            });
            remember(region_index, std::move(closest));
        });
    }
    return choice.peer;
}

}  // namespace carousel::mgr
