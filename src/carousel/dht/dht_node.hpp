// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// DhtNode: a proto::Endpoint that is only a DHT node (a Dht and nothing else), for tests, the
// simulator and `carousel node`. A frame that is not a DHT message gets its sender disconnected.

#include <optional>

#include <carousel/proto/endpoint.hpp>

#include "dht.hpp"

namespace carousel::dht {

class DhtNode final : public proto::Endpoint {
  public:
    explicit DhtNode(Contact self, Options options = {});
    DhtNode(const DhtNode&) = delete;
    DhtNode& operator=(const DhtNode&) = delete;

    [[nodiscard]] Dht& dht() noexcept { return dht_; }
    [[nodiscard]] const Dht& dht() const noexcept { return dht_; }

    void on_connect(PeerId peer, Time now) override { dht_.on_connect(peer, now); }
    void on_disconnect(PeerId peer, Time now) override { dht_.on_disconnect(peer, now); }
    void on_frame(PeerId from, ByteView frame, Time now) override;
    [[nodiscard]] std::optional<Time> next_deadline() const override { return dht_.next_deadline(); }
    void on_timer(Time now) override { dht_.on_timer(now); }

  private:
    Dht dht_;
};

}  // namespace carousel::dht
