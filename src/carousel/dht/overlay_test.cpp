// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "overlay.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/net/local_net.hpp>
#include <carousel/proto/handshake_messages.hpp>

#include "node_endpoint.hpp"

namespace carousel::dht {
namespace {

using namespace std::chrono_literals;
using proto::Address;
using proto::PeerId;
using proto::Time;

// A proto::Endpoint and proto::DatagramEndpoint that is only an Overlay: it records the frames its
// core would get, and the nodes reported unreachable.
class OverlayNode final : public proto::Endpoint, public proto::DatagramEndpoint {
  public:
    OverlayNode(const KeyPair& key, NodeRecord record, const OverlayOptions& options)
        : overlay_{key, std::move(record), options,
                   Overlay::Driver{
                       [this](PeerId to, Bytes frame) { Endpoint::send(to, std::move(frame)); },
                       [this](PeerId peer, std::string reason) { Endpoint::disconnect(peer, std::move(reason)); },
                       [this](const Address& to) { Endpoint::dial(to); },
                       [this](const Address& to, Bytes datagram) { send_datagram(to, std::move(datagram)); }},
                   Overlay::Core{[this](const NodeId& from, ByteView frame, Time /*now*/) {
                                     received.emplace_back(from, Bytes{frame});
                                 },
                                 [this](const NodeId& node, Time now) { unreachable.emplace_back(node, now); }}} {}

    [[nodiscard]] Overlay& overlay() noexcept { return overlay_; }

    void on_connect(PeerId peer, Time now) override { overlay_.on_connect(peer, now); }
    void on_disconnect(PeerId peer, Time now) override { overlay_.on_disconnect(peer, now); }
    void on_dialed(const Address& to, PeerId peer, Time now) override { overlay_.on_dialed(to, peer, now); }
    void on_dial_failed(const Address& to, Time now) override { overlay_.on_dial_failed(to, now); }
    void on_frame(PeerId from, ByteView frame, Time now) override { overlay_.on_frame(from, frame, now); }
    void on_datagram(const Address& from, ByteView datagram, Time now) override {
        overlay_.on_datagram(from, datagram, now);
    }
    [[nodiscard]] std::optional<Time> next_deadline() const override { return overlay_.next_deadline(); }
    void on_timer(Time now) override { overlay_.on_timer(now); }

    std::vector<std::pair<NodeId, Bytes>> received;
    std::vector<std::pair<NodeId, Time>> unreachable;

  private:
    Overlay overlay_;
};

KeyPair key_of(uint16_t n) {
    Bytes secret(32, 0);
    secret[0] = 2;
    secret[30] = static_cast<uint8_t>(n >> 8U);
    secret[31] = static_cast<uint8_t>(n);
    return KeyPair::from_secret(secret).value();
}

NodeRecord record_at(const KeyPair& key, const Address& address, uint64_t seq = 1) {
    return make_node_record(key, seq, {address.ip, address.port, address.port, Radius{250}}).value();
}

// A frame of the core's: not a handshake message.
constexpr uint8_t kTestType = 0x70;
Bytes test_frame(std::size_t from, std::size_t to) {
    return Bytes{kTestType, static_cast<uint8_t>(from), static_cast<uint8_t>(to)};
}

// FNV-1a over the fields of every trace entry: equal runs give equal hashes.
struct TraceHash {
    uint64_t value{0xcbf29ce484222325ULL};
    void add(uint64_t x) {
        for (int i = 0; i < 8; ++i) {
            value ^= (x >> (8U * static_cast<unsigned>(i))) & 0xffU;
            value *= 0x100000001b3ULL;
        }
    }
    void add(const net::TraceEntry& e) {
        add(static_cast<uint64_t>(e.at.count()));
        add(static_cast<uint64_t>(e.kind));
        add(e.node);
        add(e.peer);
        add(e.bytes);
        add(e.type);
        for (const uint8_t b : e.address.ip) add(b);
        add(e.address.port);
    }
};

// Overlay nodes on LocalNet (10 ms one way for dials and datagrams); member i is LocalNet node i + 1,
// its record names its LocalNet address for both UDP and TCP. No net.connect() anywhere: every
// connection comes from a dial.
class Network {
  public:
    explicit Network(OverlayOptions options = {}) : options_{options} {
        net.set_link_model([](PeerId, PeerId) { return net::LinkSettings{10ms}; });
        net.set_trace([this](const net::TraceEntry& e) { trace.add(e); });
    }

    std::size_t add() {
        const std::size_t i = nodes_.size();
        auto key = key_of(static_cast<uint16_t>(i + 1));
        OverlayOptions options = options_;
        options.handshake.nonce_seed = keccak256(Bytes{static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8U)});
        const Address address = net::default_address(static_cast<PeerId>(i + 1));
        auto node = std::make_unique<OverlayNode>(key, record_at(key, address), options);
        const PeerId id = net.add(*node);
        net.bind_datagrams(id, *node);
        nodes_.push_back(std::move(node));
        return i;
    }

    // Runs `fn` on member i's Overlay as node i's event now.
    void call(std::size_t i, std::function<void(Overlay&, Time)> fn) {
        net.post(static_cast<PeerId>(i + 1), [this, i, fn = std::move(fn)] { fn(at(i), net.now()); });
    }
    void run_for(Time t) { net.run_until(net.now() + t); }

    OverlayNode& node(std::size_t i) { return *nodes_[i]; }
    Overlay& at(std::size_t i) { return nodes_[i]->overlay(); }
    const NodeRecord& record(std::size_t i) { return at(i).record(); }
    const NodeId& id(std::size_t i) { return at(i).id(); }
    [[nodiscard]] std::size_t size() const { return nodes_.size(); }

    net::LocalNet net;
    TraceHash trace;

  private:
    OverlayOptions options_;
    std::vector<std::unique_ptr<OverlayNode>> nodes_;
};

TEST(Overlay, TwoNodesFindEachOtherAndExchangeAFrameByRecord) {
    Network n;
    n.add();
    n.add();
    n.call(0, [&](Overlay& o, Time now) { o.bootstrap(n.record(1), now); });
    n.run_for(1s);
    const auto entry = n.at(0).discovery().table().find(n.id(1));
    ASSERT_TRUE(entry && entry->contact.record);
    const NodeRecord b = *entry->contact.record;
    n.call(0, [&](Overlay& o, Time now) {
        EXPECT_EQ(o.send(b, test_frame(0, 1), now), Connections::SendResult::kQueued);
    });
    n.run_for(1s);
    ASSERT_EQ(n.node(1).received.size(), 1U);
    EXPECT_EQ(n.node(1).received[0].first, n.id(0));
    EXPECT_EQ(n.node(1).received[0].second, test_frame(0, 1));
    EXPECT_TRUE(n.node(0).received.empty());
    for (std::size_t i = 0; i < 2; ++i) {
        const auto peer = static_cast<PeerId>(i + 1);
        EXPECT_EQ(n.net.connection_count(peer), 1U);
        EXPECT_EQ(n.net.peak_connections(peer), 1U);
        EXPECT_EQ(n.at(i).connections().stats().peak, 1U);
        EXPECT_EQ(n.at(i).handshake().stats().authenticated, 1U);
        EXPECT_EQ(n.at(i).handshake().stats().failed(), 0U);
        EXPECT_TRUE(n.node(i).unreachable.empty());
    }
    EXPECT_EQ(n.at(0).connections().peer_of(n.id(1)), PeerId{2});
    EXPECT_EQ(n.at(1).connections().peer_of(n.id(0)), PeerId{1});
    // The connection is up: the answer goes straight over it, no second dial.
    n.call(1, [&](Overlay& o, Time now) {
        EXPECT_EQ(o.send(n.record(0), test_frame(1, 0), now), Connections::SendResult::kSent);
    });
    n.run_for(1s);
    ASSERT_EQ(n.node(0).received.size(), 1U);
    EXPECT_EQ(n.node(0).received[0].first, n.id(1));
    EXPECT_EQ(n.at(0).connections().stats().dials + n.at(1).connections().stats().dials, 1U);
}

}  // namespace
}  // namespace carousel::dht
