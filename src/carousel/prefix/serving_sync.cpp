// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "serving_sync.hpp"

namespace carousel::prefix {

ServingSync::ServingSync(PrefixSync& sync, const state::CodeStore& code, ServerOptions server_options)
    : sync_{sync}, server_{sync.verified_nodes(), &code, [&sync] { return sync.root(); }, server_options} {}

void ServingSync::on_connect(proto::PeerId peer, proto::Time now) {
    server_.on_connect(peer, now);
    if (dialled_.count(peer) != 0) sync_.on_connect(peer, now);
    collect();
}

void ServingSync::adopt_dialled(proto::PeerId peer, proto::Time now) {
    if (!dialled_.insert(peer).second) return;
    sync_.on_connect(peer, now);
    collect();
}

void ServingSync::on_disconnect(proto::PeerId peer, proto::Time now) {
    server_.on_disconnect(peer, now);
    if (dialled_.erase(peer) != 0) sync_.on_disconnect(peer, now);
    collect();
}

void ServingSync::on_frame(proto::PeerId from, ByteView frame, proto::Time now) {
    const auto type = proto::frame_type(frame);
    if (type && (*type == proto::MessageType::kGetChunks || *type == proto::MessageType::kGetCode)) {
        server_.on_frame(from, frame, now);
    } else {
        sync_.on_frame(from, frame, now);
    }
    collect();
}

std::optional<proto::Time> ServingSync::next_deadline() const {
    const auto a = sync_.next_deadline();
    const auto b = server_.next_deadline();
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
}

void ServingSync::on_timer(proto::Time now) {
    sync_.on_timer(now);
    server_.on_timer(now);
    collect();
}

void ServingSync::collect() {
    for (proto::Endpoint* half : {static_cast<proto::Endpoint*>(&sync_), static_cast<proto::Endpoint*>(&server_)}) {
        for (auto& f : half->take_outbox()) send(f.to, std::move(f.frame));
        for (auto& d : half->take_disconnects()) disconnect(d.peer, std::move(d.reason));
    }
}

}  // namespace carousel::prefix
