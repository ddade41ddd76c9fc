// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "overlay_host.hpp"

#include <vector>

namespace carousel::mgr {

bool OverlayHost::send_to(proto::PeerId handle, Bytes frame) {
    const auto node = handles_.node(handle);
    if (!node) return false;
    if (const auto record = handles_.record(handle)) {
        return overlay().send(*record, std::move(frame), now_) != dht::Connections::SendResult::kUnreachable;
    }
    return overlay().reply(*node, std::move(frame), now_) == dht::Connections::SendResult::kSent;
}

bool OverlayHost::drop(proto::PeerId handle, const std::string& reason) {
    const auto node = handles_.node(handle);
    return node && overlay().disconnect(*node, reason, now_);
}

bool OverlayHost::connected(proto::PeerId handle) const {
    const auto node = handles_.node(handle);
    return node && overlay().connected(*node);
}

std::vector<proto::PeerId> OverlayHost::table_handles() {
    std::vector<proto::PeerId> out;
    for (dht::Contact& c : overlay().discovery().table().contacts()) out.push_back(handles_.named(std::move(c)).peer);
    return out;
}

ContactSource OverlayHost::contacts() {
    return ContactSource{[this](const Hash& key) {
                             std::vector<dht::Contact> out = overlay().discovery().table().covering(key);
                             for (auto& c : out) c = handles_.named(std::move(c));
                             return out;
                         },
                         [this](const Hash& target, proto::Time now, ContactSource::LookupDone done) {
                             overlay().discovery().start_lookup(
                                 target, now, [this, done = std::move(done)](std::vector<dht::Contact> found) {
                                     for (auto& c : found) c = handles_.named(std::move(c));
                                     done(std::move(found));
                                 });
                         }};
}

}  // namespace carousel::mgr
