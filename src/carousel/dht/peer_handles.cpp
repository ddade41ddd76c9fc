// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "peer_handles.hpp"

#include <utility>

namespace carousel::dht {

proto::PeerId PeerHandles::handle(const NodeId& id) {
    if (const auto it = ids_.find(id); it != ids_.end()) {
        Entry& e = entries_.at(it->second);
        by_use_.erase(e.used);
        e.used = ++uses_;
        by_use_.emplace(e.used, it->second);
        return it->second;
    }
    if (ids_.size() >= capacity_) forget_oldest();
    const proto::PeerId h = next_++;
    ids_.emplace(id, h);
    entries_.emplace(h, Entry{id, nullptr, ++uses_});
    by_use_.emplace(uses_, h);
    return h;
}

Contact PeerHandles::named(Contact c) {
    c.peer = handle(c.id);
    Entry& e = entries_.at(c.peer);
    if (c.record && (!e.record || c.record->seq() > e.record->seq())) e.record = c.record;
    return c;
}

std::optional<NodeId> PeerHandles::node(proto::PeerId handle) const {
    const auto it = entries_.find(handle);
    if (it == entries_.end()) return std::nullopt;
    return it->second.id;
}

std::shared_ptr<const NodeRecord> PeerHandles::record(proto::PeerId handle) const {
    const auto it = entries_.find(handle);
    return it == entries_.end() ? nullptr : it->second.record;
}

void PeerHandles::forget_oldest() {
    const auto oldest = by_use_.begin();
    const auto it = entries_.find(oldest->second);
    ids_.erase(it->second.id);
    entries_.erase(it);
    by_use_.erase(oldest);
}

}  // namespace carousel::dht
