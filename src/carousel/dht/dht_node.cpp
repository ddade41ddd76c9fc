// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "dht_node.hpp"

namespace carousel::dht {

DhtNode::DhtNode(Contact self, Options options)
    : dht_{self, options, [this](PeerId to, Bytes frame) { send(to, std::move(frame)); },
           [this](PeerId peer, std::string reason) { disconnect(peer, std::move(reason)); }} {}

void DhtNode::on_frame(PeerId from, ByteView frame, Time now) {
    if (frame.empty() || !Dht::handles(frame[0])) {
        disconnect(from, "dht node: not a DHT message");
        dht_.on_disconnect(from, now);
        return;
    }
    dht_.on_frame(from, frame, now);
}

}  // namespace carousel::dht
