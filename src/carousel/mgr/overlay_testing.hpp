// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Test helpers for Merry-Go-Round cores on net::LocalNet (header only; mgr's tests, not the
// library): node keys drawn from a number, and members (OverlayHost: MgrNode, MgrSync, scripted
// nodes) added to a LocalNet with a record naming the address LocalNet gives them.

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include <carousel/core/assert.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/dht/node_endpoint.hpp>
#include <carousel/dht/node_key.hpp>
#include <carousel/net/local_net.hpp>

#include "overlay_host.hpp"

namespace carousel::mgr::testing {

// The key whose secret is keccak256(n) (hashed again until valid).
inline dht::KeyPair test_key(uint64_t n) {
    const uint8_t in[8] = {static_cast<uint8_t>(n),       static_cast<uint8_t>(n >> 8),  static_cast<uint8_t>(n >> 16),
                           static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 32), static_cast<uint8_t>(n >> 40),
                           static_cast<uint8_t>(n >> 48), static_cast<uint8_t>(n >> 56)};
    Hash secret = keccak256(ByteView{in, sizeof in});
    for (;;) {
        if (auto key = dht::KeyPair::from_secret(ByteView{secret.data(), secret.size()})) return *key;
        secret = keccak256(ByteView{secret.data(), secret.size()});
    }
}

// The first key from test_key(n) on (n counts up) whose node id satisfies `want`.
template <class Want>
dht::KeyPair test_key_where(uint64_t& n, Want want) {
    for (;;) {
        auto key = test_key(n++);
        if (want(key.node_id)) return key;
    }
}

// A LocalNet where every dial and datagram takes `latency`, and members are added with their
// datagrams bound.
class OverlayNet {
  public:
    explicit OverlayNet(proto::Time latency = std::chrono::milliseconds{10}) {
        net.set_link_model([latency](proto::PeerId, proto::PeerId) { return net::LinkSettings{latency}; });
    }
    // The id (and so the address) the next member added gets: LocalNet counts ids up from 1.
    [[nodiscard]] proto::PeerId next_id() const noexcept { return added_ + 1; }
    // What a member made for the next id announces.
    [[nodiscard]] dht::NodeEndpoint next_endpoint(unsigned radius_bits) const {
        const proto::Address a = net::default_address(next_id());
        return dht::NodeEndpoint{a.ip, a.port, a.port, dht::Radius{radius_bits}};
    }
    proto::PeerId add(OverlayHost& member, net::NodeSettings settings = {}) {
        const proto::PeerId id = net.add(member, settings);
        ++added_;
        CAROUSEL_ASSERT(id == added_, "members are made for the id they get");
        return id;
    }
    void run_for(proto::Time t) { net.run_until(net.now() + t); }

    net::LocalNet net;

  private:
    proto::PeerId added_{0};
};

// A member that only talks: it records every frame an authenticated node sends it, and sends what
// the test tells it to (requests to a node's record, answers over a node's connection).
class ScriptedNode final : public OverlayHost {
  public:
    struct Received {
        dht::NodeId from{};
        Bytes frame;
    };

    // Announces `endpoint` (its radius too: 256 makes it cover every key).
    ScriptedNode(const dht::KeyPair& key, const dht::NodeEndpoint& endpoint, dht::OverlayOptions options = {})
        : overlay_(key, dht::make_node_record(key, 1, endpoint).value(), options, driver(),
                   dht::Overlay::Core{[this](const dht::NodeId& from, ByteView frame, proto::Time) {
                                          received.push_back({from, Bytes{frame}});
                                          if (on_received) on_received(received.back());
                                      },
                                      {}}) {}

    dht::Overlay& overlay() override { return overlay_; }
    const dht::Overlay& overlay() const override { return overlay_; }
    const dht::NodeRecord& record() const { return overlay_.record(); }

    // Call these from inside the driver's turn for this member (LocalNet::post).
    void send(const dht::NodeRecord& to, Bytes frame, proto::Time now) {
        at(now);
        (void)overlay_.send(to, std::move(frame), now);
    }
    void reply(const dht::NodeId& to, Bytes frame, proto::Time now) {
        at(now);
        (void)overlay_.reply(to, std::move(frame), now);
    }

    std::vector<Received> received;
    std::function<void(const Received&)> on_received;  // may be empty

  private:
    dht::Overlay overlay_;
};

}  // namespace carousel::mgr::testing
