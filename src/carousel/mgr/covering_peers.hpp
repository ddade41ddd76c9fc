// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// CoveringPeers: which node a Merry-Go-Round client asks for a key, and when no node will do.
//
// The nodes covering a key are those of the client's routing table whose radius covers it, and
// those a Kademlia lookup found for the key's region (the table need not hold every node of a
// region); both are remembered per region (at most kMaxFound), so a node the table drops (its
// Discovery requests timed out on a busy link) stays a candidate until the caller forgets it. Among them the peer pool
// (dht::PeerPool) picks a usable one: connected, not banned, not paused (a node behind the chain), below its window;
// the least loaded, one not in `avoid` when there is one.
//  - When no candidate is left to ask (none known, or every one banned or unreachable; paused ones
//    come back by themselves), a lookup for the region's first key starts (one at a time per region, at most one every
//    two seconds); its results are candidates from then on. (The table holds the nodes the client has bonded with, not
//    every node of a region: a lookup finds the others.)
//  - A region that needs a request and has had no usable candidate for `unserved_timeout` (every
//    covering node banned, behind or unreachable, or none found) is a failure: failure() names the
//    region and what became of its nodes, from the first time it happens on.
// A node the caller found unreachable is dropped from what is remembered (forget()).
// Connections are bounded (dht::Connections' max_peers): among the usable candidates, those the
// client is connected to are chosen first (the least loaded of them below its window); another one
// is dialed only when they are all busy and a connection more has room (room()); else none is
// picked now (the caller asks again at its next tick). The region still counts as served.

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <carousel/dht/peer_pool.hpp>

#include "contact_source.hpp"
#include "placement.hpp"

namespace carousel::mgr {

class CoveringPeers {
  public:
    // Whether the node a handle names is connected now.
    using ConnectedFn = std::function<bool(proto::PeerId peer)>;
    // Whether a connection more fits under the cap (or one can be evicted for it).
    using RoomFn = std::function<bool()>;
    // `pool` and `regions` (the gossip regions, of 2^region_bits keys, in key order) must outlive
    // this. `connected` and `room` may be empty (then no candidate is preferred, and there is room).
    CoveringPeers(ContactSource contacts, dht::PeerPool& pool, const std::vector<Region>& regions, unsigned region_bits,
                  proto::Time unserved_timeout, ConnectedFn connected = {}, RoomFn room = {});
    CoveringPeers(const CoveringPeers&) = delete;
    CoveringPeers& operator=(const CoveringPeers&) = delete;

    // A usable node covering `position` (see above), or nullopt.
    std::optional<proto::PeerId> pick(const Hash& position, proto::Time now, const std::set<proto::PeerId>& avoid = {});
    void forget(proto::PeerId peer);
    // Nodes kept per region from lookups.
    static constexpr std::size_t kMaxFound = 32;
    // Lookups started.
    uint64_t lookups() const noexcept { return lookups_; }
    // The first region found unserved for unserved_timeout (empty while none).
    const std::string& failure() const noexcept { return failure_; }

  private:
    // Adds `found` to the region's remembered nodes (a known one takes its newer contact).
    void remember(std::size_t region_index, std::vector<dht::Contact> found);

    ContactSource contacts_;
    ConnectedFn connected_;
    RoomFn room_;
    dht::PeerPool& pool_;
    const std::vector<Region>& regions_;
    unsigned region_bits_;
    proto::Time unserved_timeout_;
    std::map<std::size_t, std::vector<dht::Contact>> found_;  // remembered per region (table and lookups)
    std::set<std::size_t> looking_up_;
    std::map<std::size_t, proto::Time> last_lookup_;
    std::map<std::size_t, proto::Time> unserved_since_;  // regions needing a request with no node to ask
    uint64_t lookups_{0};
    std::string failure_;
};

}  // namespace carousel::mgr
