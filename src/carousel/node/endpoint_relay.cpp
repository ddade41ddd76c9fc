// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "endpoint_relay.hpp"

#include <carousel/proto/corrupt_answer.hpp>

namespace carousel::node {

void EndpointRelay::relay_outboxes() {
    if (core_ == nullptr) return;
    for (proto::OutgoingFrame& out : core_->take_outbox()) {
        if (corrupt_answers_) proto::corrupt_answer(out.frame);
        send(out.to, std::move(out.frame));
    }
    for (proto::Disconnect& d : core_->take_disconnects()) disconnect(d.peer, std::move(d.reason));
    for (const proto::Address& to : core_->take_dials()) dial(to);
    for (proto::OutgoingDatagram& d : core_->take_datagrams()) send_datagram(d.to, std::move(d.datagram));
}

void EndpointRelay::on_connect(proto::PeerId peer, proto::Time now) {
    if (core_ == nullptr) return;
    core_->on_connect(peer, now);
    relay_outboxes();
}

void EndpointRelay::on_disconnect(proto::PeerId peer, proto::Time now) {
    if (core_ == nullptr) return;
    core_->on_disconnect(peer, now);
    relay_outboxes();
}

void EndpointRelay::on_dialed(const proto::Address& to, proto::PeerId peer, proto::Time now) {
    if (core_ == nullptr) return;
    core_->on_dialed(to, peer, now);
    relay_outboxes();
}

void EndpointRelay::on_dial_failed(const proto::Address& to, proto::Time now) {
    if (core_ == nullptr) return;
    core_->on_dial_failed(to, now);
    relay_outboxes();
}

void EndpointRelay::on_frame(proto::PeerId from, ByteView frame, proto::Time now) {
    if (core_ == nullptr) return;
    core_->on_frame(from, frame, now);
    relay_outboxes();
}

void EndpointRelay::on_datagram(const proto::Address& from, ByteView datagram, proto::Time now) {
    if (core_ == nullptr) return;
    core_->on_datagram(from, datagram, now);
    relay_outboxes();
}

std::optional<proto::Time> EndpointRelay::next_deadline() const {
    return core_ == nullptr ? std::nullopt : core_->next_deadline();
}

void EndpointRelay::on_timer(proto::Time now) {
    if (core_ == nullptr) return;
    core_->on_timer(now);
    relay_outboxes();
}

}  // namespace carousel::node
