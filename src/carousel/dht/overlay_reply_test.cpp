// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Overlay's calls for a core that answers and announces (reply, disconnect, set_record), on
// LocalNet: two nodes, no net.connect() (the first frame dials).
#include <memory>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/net/local_net.hpp>

#include "node_endpoint.hpp"
#include "overlay.hpp"

namespace carousel::dht {
namespace {

using namespace std::chrono_literals;
using proto::Address;
using proto::PeerId;
using proto::Time;

constexpr uint8_t kCoreType = 0x70;  // a core's frame: not a handshake message

// An Overlay on a LocalNet endpoint that records the frames its core gets.
class Member final : public proto::Endpoint {
  public:
    Member(uint8_t n, const Address& address)
        : key_{[n] {
              Bytes secret(32, 0);
              secret[0] = 4;
              secret[31] = n;
              return KeyPair::from_secret(secret).value();
          }()},
          address_{address},
          overlay_{key_,
                   record(1, 250),
                   {},
                   Overlay::Driver{[this](PeerId to, Bytes f) { Endpoint::send(to, std::move(f)); },
                                   [this](PeerId p, std::string r) { Endpoint::disconnect(p, std::move(r)); },
                                   [this](const Address& to) { Endpoint::dial(to); },
                                   [this](const Address& to, Bytes d) { send_datagram(to, std::move(d)); }},
                   Overlay::Core{
                       [this](const NodeId& from, ByteView frame, Time) { received.emplace_back(from, Bytes{frame}); },
                       {}}} {}

    NodeRecord record(uint64_t seq, unsigned radius_bits) const {
        return make_node_record(key_, seq, {address_.ip, address_.port, address_.port, Radius{radius_bits}}).value();
    }
    Overlay& overlay() { return overlay_; }

    void on_connect(PeerId p, Time now) override { overlay_.on_connect(p, now); }
    void on_disconnect(PeerId p, Time now) override { overlay_.on_disconnect(p, now); }
    void on_dialed(const Address& to, PeerId p, Time now) override { overlay_.on_dialed(to, p, now); }
    void on_dial_failed(const Address& to, Time now) override { overlay_.on_dial_failed(to, now); }
    void on_frame(PeerId from, ByteView f, Time now) override { overlay_.on_frame(from, f, now); }
    void on_datagram(const Address& from, ByteView d, Time now) override { overlay_.on_datagram(from, d, now); }
    std::optional<Time> next_deadline() const override { return overlay_.next_deadline(); }
    void on_timer(Time now) override { overlay_.on_timer(now); }

    std::vector<std::pair<NodeId, Bytes>> received;

  private:
    KeyPair key_;
    Address address_;
    Overlay overlay_;
};

struct Pair {
    net::LocalNet net;
    std::unique_ptr<Member> a = std::make_unique<Member>(1, net::default_address(1));
    std::unique_ptr<Member> b = std::make_unique<Member>(2, net::default_address(2));
    Pair() {
        net.set_link_model([](PeerId, PeerId) { return net::LinkSettings{5ms}; });
        for (Member* m : {a.get(), b.get()}) net.add(*m);
    }
    // Runs `fn` as member `who`'s event (1: a, 2: b), then a second of the net.
    template <class Fn>
    void as(PeerId who, Fn fn) {
        net.post(who, [this, who, fn] { fn(who == 1 ? *a : *b, net.now()); });
        net.run_until(net.now() + 1s);
    }
};

TEST(OverlayReply, AnswersGoBackOverTheRequestsConnectionOnly) {
    Pair p;
    const NodeRecord b_record = p.b->overlay().record();
    p.as(1, [&](Member& m, Time now) { (void)m.overlay().send(b_record, Bytes{kCoreType, 1}, now); });
    ASSERT_EQ(p.b->received.size(), 1u);
    const NodeId a_id = p.b->received[0].first;
    EXPECT_EQ(a_id, p.a->overlay().id());
    Connections::SendResult result{};
    p.as(2, [&](Member& m, Time now) { result = m.overlay().reply(a_id, Bytes{kCoreType, 2}, now); });
    EXPECT_EQ(result, Connections::SendResult::kSent);
    ASSERT_EQ(p.a->received.size(), 1u);
    EXPECT_EQ(p.a->received[0].second, (Bytes{kCoreType, 2}));
    // A node without a connection gets no reply, and nothing is dialed for it.
    p.as(2, [&](Member& m, Time now) { result = m.overlay().reply(NodeId{}, Bytes{kCoreType, 3}, now); });
    EXPECT_EQ(result, Connections::SendResult::kUnreachable);
    EXPECT_EQ(p.b->overlay().connections().stats().dials, 0u);
    // A handshake message is never the core's to send.
    p.as(2, [&](Member& m, Time now) { result = m.overlay().reply(a_id, Bytes{0x08}, now); });
    EXPECT_EQ(result, Connections::SendResult::kUnreachable);
    EXPECT_EQ(p.b->overlay().stats().bad_sends, 1u);
    // Dropped: the connection closes, and a reply has nowhere to go.
    bool closed = false;
    p.as(2, [&](Member& m, Time now) { closed = m.overlay().disconnect(a_id, "test", now); });
    EXPECT_TRUE(closed);
    EXPECT_FALSE(p.b->overlay().connected(a_id));
    EXPECT_FALSE(p.net.connected(1, 2));
    p.as(2, [&](Member& m, Time now) { result = m.overlay().reply(a_id, Bytes{kCoreType, 4}, now); });
    EXPECT_EQ(result, Connections::SendResult::kUnreachable);
    p.as(2, [&](Member& m, Time now) { closed = m.overlay().disconnect(a_id, "again", now); });
    EXPECT_FALSE(closed);
}

TEST(OverlayReply, ANewRecordReachesTheTablesContacts) {
    Pair p;
    const NodeRecord b_record = p.b->overlay().record();
    p.as(1, [&](Member& m, Time now) { m.overlay().bootstrap(b_record, now); });  // a and b bond
    const auto before = p.b->overlay().discovery().table().find(p.a->overlay().id());
    ASSERT_TRUE(before.has_value());
    EXPECT_EQ(before->contact.radius.bits, 250u);
    p.as(1, [&](Member& m, Time now) { m.overlay().set_record(m.record(2, 252), now); });
    EXPECT_EQ(p.a->overlay().record().seq(), 2u);
    const auto after = p.b->overlay().discovery().table().find(p.a->overlay().id());
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(after->contact.radius.bits, 252u);
    ASSERT_NE(after->contact.record, nullptr);
    EXPECT_EQ(after->contact.record->seq(), 2u);
}

}  // namespace
}  // namespace carousel::dht
