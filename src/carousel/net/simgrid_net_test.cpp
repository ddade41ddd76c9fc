// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// SimGridNet against proto::Endpoint's contract, with endpoints that record what they see. SimGrid
// has one engine per process; ctest runs every test in a process of its own.
#include "simgrid_net.hpp"

#include <gtest/gtest.h>

namespace carousel::net {
namespace {

using proto::Address;
using proto::PeerId;
using proto::Time;
using namespace std::chrono_literals;

// Records every event with its time; sends what the test queues; echoes frames when asked.
class Recorder final : public proto::Endpoint {
  public:
    struct Event {
        std::string what;
        PeerId peer{0};
        Bytes bytes;
        Time at{0};
    };
    std::vector<Event> events;
    bool echo{false};
    std::optional<Time> wake_at;
    std::optional<PeerId> last_connected;

    void on_connect(PeerId peer, Time now) override {
        events.push_back({"connect", peer, {}, now});
        last_connected = peer;
    }
    void on_disconnect(PeerId peer, Time now) override { events.push_back({"disconnect", peer, {}, now}); }
    void on_dialed(const Address&, PeerId peer, Time now) override { events.push_back({"dialed", peer, {}, now}); }
    void on_dial_failed(const Address&, Time now) override { events.push_back({"dial failed", 0, {}, now}); }
    void on_frame(PeerId from, ByteView frame, Time now) override {
        events.push_back({"frame", from, Bytes{frame}, now});
        if (echo) send(from, Bytes{frame});
    }
    void on_datagram(const Address& from, ByteView datagram, Time now) override {
        events.push_back({"datagram " + proto::to_string(from), 0, Bytes{datagram}, now});
    }
    std::optional<Time> next_deadline() const override { return wake_at; }
    void on_timer(Time now) override {
        events.push_back({"timer", 0, {}, now});
        wake_at.reset();
    }

    // The core's own calls, for the test's scheduled calls.
    void dial_to(const Address& a) { dial(a); }
    void send_to(PeerId p, Bytes f) { send(p, std::move(f)); }
    void drop(PeerId p) { disconnect(p, "test"); }
    void datagram_to(const Address& a, Bytes d) { send_datagram(a, std::move(d)); }

    std::vector<Event> of(const std::string& what) const {
        std::vector<Event> out;
        for (const Event& e : events) {
            if (e.what == what) out.push_back(e);
        }
        return out;
    }
};

Bytes frame_of(uint8_t type, std::size_t size) {
    Bytes f(size, 0xab);
    f[0] = type;
    return f;
}

// 100 Mbit/s both ways, 10 ms one way per access link: a one-way trip crosses two links (20 ms).
SimNodeOptions node() { return {}; }

// SimGrid's default model (LV08) multiplies latencies by 13.01 and bandwidths by 0.97 to fit
// measured TCP; the tests want the links' own figures.
SimGridOptions exact() {
    SimGridOptions o;
    o.config = {"network/latency-factor:1", "network/bandwidth-factor:1"};
    return o;
}

TEST(SimGridNet, ADialCostsARoundTripAndFramesKeepTheirOrder) {
    SimGridNet net{exact()};
    Recorder a;
    Recorder b;
    b.echo = true;
    const auto ia = net.add_node(a, node());
    const auto ib = net.add_node(b, node());
    net.schedule(ia, Time{0}, [&] { a.dial_to(net.address(ib)); });
    // Once connected, three frames of very different sizes: they must arrive, and come back, in order.
    net.schedule(ia, Time{200ms}, [&] {
        ASSERT_TRUE(a.last_connected);
        a.send_to(*a.last_connected, frame_of(1, 1'000'000));
        a.send_to(*a.last_connected, frame_of(2, 10));
        a.send_to(*a.last_connected, frame_of(3, 5'000));
    });
    net.run(Time{5s});

    ASSERT_EQ(b.of("connect").size(), 1u);
    ASSERT_EQ(a.of("dialed").size(), 1u);
    ASSERT_EQ(a.of("connect").size(), 1u);
    EXPECT_EQ(a.of("dialed")[0].peer, b.of("connect")[0].peer);  // both ends name it alike
    // The SYN takes a one-way trip (>= 20 ms), the SYN-ACK another.
    EXPECT_GE(b.of("connect")[0].at, Time{20ms});
    EXPECT_GE(a.of("dialed")[0].at, Time{40ms});
    EXPECT_LT(a.of("dialed")[0].at, Time{200ms});
    const auto got = b.of("frame");
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].bytes[0], 1);
    EXPECT_EQ(got[1].bytes[0], 2);
    EXPECT_EQ(got[2].bytes[0], 3);
    // 1 MB over 12.5 MB/s takes at least 80 ms on top of the start.
    EXPECT_GE(got[0].at, Time{280ms});
    const auto back = a.of("frame");
    ASSERT_EQ(back.size(), 3u);
    EXPECT_EQ(back[0].bytes, frame_of(1, 1'000'000));
    EXPECT_EQ(back[2].bytes[0], 3);
    EXPECT_EQ(net.counters(ia).frames_sent.total.frames, 3u);
    EXPECT_EQ(net.counters(ib).frames_received.of_type(1).bytes, 1'000'000u);
    EXPECT_EQ(net.counters(ia).peak_connections, 1u);
    EXPECT_EQ(net.counters(ib).peak_connections, 1u);
}

TEST(SimGridNet, ManyFramesQueuedOnOneConnectionArriveInOrderOneAtATime) {
    SimGridNet net{exact()};
    Recorder a;
    Recorder b;
    b.echo = true;
    const auto ia = net.add_node(a, node());
    const auto ib = net.add_node(b, node());
    constexpr std::size_t kFrames = 100;
    auto nth = [](std::size_t i) {
        Bytes f = frame_of(static_cast<uint8_t>(1 + i % 200), 2 + (i * 37) % 3000);
        f[1] = static_cast<uint8_t>(i);
        return f;
    };
    net.schedule(ia, Time{0}, [&] { a.dial_to(net.address(ib)); });
    net.schedule(ia, Time{200ms}, [&] {
        for (std::size_t i = 0; i < kFrames; ++i) a.send_to(*a.last_connected, nth(i));
    });
    net.run(Time{10s});

    const auto got = b.of("frame");
    ASSERT_EQ(got.size(), kFrames);
    const auto back = a.of("frame");
    ASSERT_EQ(back.size(), kFrames);
    for (std::size_t i = 0; i < kFrames; ++i) {
        EXPECT_EQ(got[i].bytes, nth(i));
        EXPECT_EQ(back[i].bytes, nth(i));
        // One frame at a time: each starts once the one before arrived, and takes a one-way trip.
        EXPECT_GE(got[i].at, Time{200ms} + (i + 1) * Time{20ms});
    }
    EXPECT_EQ(net.counters(ia).frames_sent.total.frames, kFrames);
    EXPECT_EQ(net.counters(ib).frames_received.total.frames, kFrames);
    EXPECT_EQ(net.counters(ib).frames_sent.total.frames, kFrames);
    EXPECT_EQ(net.counters(ia).frames_received.total.frames, kFrames);
}

TEST(SimGridNet, ALeavingNodesFramesStillArriveBeforeItsFin) {
    SimGridNet net{exact()};
    Recorder a;
    Recorder b;
    const auto ia = net.add_node(a, node());
    SimNodeOptions leaves = node();
    leaves.leave = Time{210ms};
    const auto ib = net.add_node(b, leaves);
    net.schedule(ib, Time{0}, [&] { b.dial_to(net.address(ia)); });
    // Three frames of 80 ms each on the links: most of them travel after b is gone.
    net.schedule(ib, Time{200ms}, [&] {
        for (uint8_t i = 1; i <= 3; ++i) b.send_to(*b.last_connected, frame_of(i, 1'000'000));
    });
    net.run(Time{2s});
    const auto got = a.of("frame");
    ASSERT_EQ(got.size(), 3u);
    for (uint8_t i = 0; i < 3; ++i) EXPECT_EQ(got[i].bytes[0], i + 1);
    EXPECT_GT(got[2].at, Time{400ms});
    ASSERT_EQ(a.of("disconnect").size(), 1u);
    EXPECT_GT(a.of("disconnect")[0].at, got[2].at);
    EXPECT_EQ(net.counters(ia).connections, 0u);
}

TEST(SimGridNet, ASynAckAfterTheDialerGaveUpClosesTheConnection) {
    SimGridOptions options = exact();
    options.connect_timeout = 30ms;  // under the 40 ms round trip
    SimGridNet net{options};
    Recorder a;
    Recorder b;
    const auto ia = net.add_node(a, node());
    const auto ib = net.add_node(b, node());
    net.schedule(ia, Time{0}, [&] { a.dial_to(net.address(ib)); });
    // b sends on the connection it thinks open; a, closing it, takes nothing.
    net.schedule(ib, Time{25ms}, [&] { b.send_to(*b.last_connected, frame_of(5, 100)); });
    net.run(Time{2s});
    ASSERT_EQ(a.of("dial failed").size(), 1u);
    EXPECT_EQ(a.of("dial failed")[0].at, Time{30ms});
    EXPECT_TRUE(a.of("connect").empty());
    EXPECT_TRUE(a.of("frame").empty());
    ASSERT_EQ(b.of("connect").size(), 1u);
    ASSERT_EQ(b.of("disconnect").size(), 1u);
    EXPECT_GE(b.of("disconnect")[0].at, Time{60ms});  // the SYN-ACK's trip, then the FIN's
    EXPECT_EQ(net.counters(ia).peak_connections, 0u);
    EXPECT_EQ(net.counters(ib).connections, 0u);
}

TEST(SimGridNet, TheRunEndsWithFramesAndDatagramsUnderWay) {
    SimGridNet net{exact()};
    Recorder a;
    Recorder b;
    a.echo = true;
    b.echo = true;
    const auto ia = net.add_node(a, node());
    const auto ib = net.add_node(b, node());
    net.schedule(ia, Time{0}, [&] { a.dial_to(net.address(ib)); });
    net.schedule(ia, Time{100ms}, [&] {
        for (uint8_t i = 1; i <= 10; ++i) a.send_to(*a.last_connected, frame_of(i, 100'000));
    });
    net.schedule(ib, Time{290ms}, [&] { b.datagram_to(net.address(ia), Bytes{1}); });
    net.run(Time{300ms});
    // Frames keep going both ways until the end, which leaves the nodes as they are.
    EXPECT_FALSE(b.of("frame").empty());
    EXPECT_FALSE(a.of("frame").empty());
    EXPECT_TRUE(a.of("datagram " + proto::to_string(net.address(ib))).empty());
    EXPECT_EQ(net.now(), Time{300ms});
    EXPECT_EQ(net.counters(ia).connections, 1u);
    EXPECT_EQ(net.counters(ib).connections, 1u);
}

TEST(SimGridNet, DialsToNobodyOrToANodeThatLeftTimeOut) {
    SimGridOptions options = exact();
    options.connect_timeout = 1s;
    SimGridNet net{options};
    Recorder a;
    Recorder gone;
    const auto ia = net.add_node(a, node());
    SimNodeOptions leaves = node();
    leaves.leave = Time{100ms};
    const auto ig = net.add_node(gone, leaves);
    net.schedule(ia, Time{500ms}, [&] {
        a.dial_to(net.address(ig));
        a.dial_to(Address{{10, 9, 9, 9}, 30303});  // no node there
        a.dial_to(net.address(ia));                // itself
    });
    net.run(Time{5s});
    const auto failed = a.of("dial failed");
    ASSERT_EQ(failed.size(), 3u);
    for (const auto& f : failed) EXPECT_EQ(f.at, Time{1500ms});
    EXPECT_EQ(net.counters(ia).dials, 3u);
    EXPECT_EQ(net.counters(ia).dials_failed, 3u);
    EXPECT_TRUE(a.of("connect").empty());
}

TEST(SimGridNet, ADisconnectReachesThePeerAfterTheFramesBeforeIt) {
    SimGridNet net{exact()};
    Recorder a;
    Recorder b;
    const auto ia = net.add_node(a, node());
    const auto ib = net.add_node(b, node());
    net.schedule(ia, Time{0}, [&] { a.dial_to(net.address(ib)); });
    // The drain takes the outbox before the disconnects: a frame sent in the same call goes first.
    net.schedule(ia, Time{200ms}, [&] {
        a.send_to(*a.last_connected, frame_of(7, 400'000));
        a.drop(*a.last_connected);
    });
    net.schedule(ia, Time{210ms}, [&] { a.send_to(*a.last_connected, frame_of(8, 10)); });  // closed: dropped
    net.run(Time{5s});
    ASSERT_EQ(a.of("disconnect").size(), 1u);
    EXPECT_EQ(a.of("disconnect")[0].at, Time{200ms});  // at once on the closing side
    ASSERT_EQ(b.of("frame").size(), 1u);
    ASSERT_EQ(b.of("disconnect").size(), 1u);
    EXPECT_GT(b.of("disconnect")[0].at, b.of("frame")[0].at);
    EXPECT_EQ(net.counters(ia).frames_dropped.of_type(8).frames, 1u);
    EXPECT_EQ(net.counters(ia).connections, 0u);
    EXPECT_EQ(net.counters(ib).connections, 0u);
}

TEST(SimGridNet, ANodeThatLeavesClosesItsConnections) {
    SimGridNet net{exact()};
    Recorder a;
    Recorder b;
    const auto ia = net.add_node(a, node());
    SimNodeOptions leaves = node();
    leaves.leave = Time{300ms};
    const auto ib = net.add_node(b, leaves);
    net.schedule(ia, Time{0}, [&] { a.dial_to(net.address(ib)); });
    net.run(Time{2s});
    ASSERT_EQ(a.of("connect").size(), 1u);
    ASSERT_EQ(a.of("disconnect").size(), 1u);
    EXPECT_GE(a.of("disconnect")[0].at, Time{300ms});
    EXPECT_TRUE(b.of("disconnect").empty());  // it is gone: its endpoint is no longer driven
}

TEST(SimGridNet, DatagramsCarryTheSendersAddressAndBadOnesAreCounted) {
    SimGridNet net{exact()};
    Recorder a;
    Recorder b;
    const auto ia = net.add_node(a, node());
    const auto ib = net.add_node(b, node());
    net.schedule(ia, Time{10ms}, [&] {
        a.datagram_to(net.address(ib), Bytes{0x30, 1, 2});
        a.datagram_to(net.address(ib), Bytes(proto::kMaxDatagramSize + 1, 1));  // too large
        a.datagram_to(net.address(ib), Bytes{});                                // empty
        a.datagram_to(Address{{10, 7, 7, 7}, 30303}, Bytes{1});                 // nobody
    });
    net.run(Time{1s});
    const auto got = b.of("datagram " + proto::to_string(net.address(ia)));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].bytes, (Bytes{0x30, 1, 2}));
    EXPECT_GE(got[0].at, Time{30ms});
    EXPECT_EQ(net.counters(ia).datagrams_sent.total.frames, 1u);
    EXPECT_EQ(net.counters(ia).datagrams_dropped.total.frames, 3u);
    EXPECT_EQ(net.counters(ib).datagrams_received.of_type(0x30).frames, 1u);
}

TEST(SimGridNet, TimersFireAtTheirDeadlineAndNodesJoinLate) {
    SimGridNet net{exact()};
    Recorder a;
    Recorder late;
    a.wake_at = Time{1234ms};
    const auto ia = net.add_node(a, node());
    SimNodeOptions joins = node();
    joins.join = Time{2s};
    const auto il = net.add_node(late, joins);
    net.schedule(ia, Time{100ms}, [&] { a.datagram_to(net.address(il), Bytes{1}); });  // not online yet
    net.schedule(il, Time{2500ms}, [&] { late.datagram_to(net.address(ia), Bytes{2}); });
    net.run(Time{3s});
    ASSERT_EQ(a.of("timer").size(), 1u);
    EXPECT_EQ(a.of("timer")[0].at, Time{1234ms});
    EXPECT_TRUE(late.of("datagram " + proto::to_string(net.address(ia))).empty());
    EXPECT_EQ(net.counters(ia).datagrams_dropped.total.frames, 1u);
    EXPECT_EQ(a.of("datagram " + proto::to_string(net.address(il))).size(), 1u);
}

TEST(SimGridNet, RunsInSlicesWithCallsScheduledBetweenThem) {
    SimGridNet net{exact()};
    Recorder a;
    Recorder b;
    b.echo = true;
    const auto ia = net.add_node(a, node());
    const auto ib = net.add_node(b, node());
    net.schedule(ia, Time{0}, [&] { a.dial_to(net.address(ib)); });
    net.run(Time{100ms});
    EXPECT_EQ(net.now(), Time{100ms});
    ASSERT_TRUE(a.last_connected);
    EXPECT_TRUE(b.of("frame").empty());
    // Between runs: a call on each node (one due now, one later) and a timer set on an endpoint.
    net.schedule(ia, Time{0}, [&] { a.send_to(*a.last_connected, frame_of(1, 1'000'000)); });
    net.schedule(ib, Time{300ms}, [&] { b.datagram_to(net.address(ia), Bytes{9}); });
    a.wake_at = Time{150ms};
    net.run(Time{120ms});
    EXPECT_TRUE(b.of("frame").empty());  // 80 ms on the links and 20 ms of latency
    net.run(Time{120ms});                // an empty run
    net.run(Time{1s});
    const auto got = b.of("frame");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_GE(got[0].at, Time{200ms});
    EXPECT_LT(got[0].at, Time{220ms});
    ASSERT_EQ(a.of("frame").size(), 1u);  // the echo
    ASSERT_EQ(a.of("timer").size(), 1u);
    EXPECT_EQ(a.of("timer")[0].at, Time{150ms});
    const auto datagram = a.of("datagram " + proto::to_string(net.address(ib)));
    ASSERT_EQ(datagram.size(), 1u);
    EXPECT_GE(datagram[0].at, Time{320ms});
    EXPECT_EQ(net.now(), Time{1s});
    net.finish();
    EXPECT_EQ(net.counters(ia).connections, 1u);  // finish() leaves the nodes as they are
}

TEST(SimGridNet, ANodeMadeToLeaveBetweenRunsLeavesThen) {
    SimGridOptions options = exact();
    options.connect_timeout = 1s;
    SimGridNet net{options};
    Recorder a;
    Recorder b;
    const auto ia = net.add_node(a, node());
    const auto ib = net.add_node(b, node());
    net.schedule(ia, Time{0}, [&] { a.dial_to(net.address(ib)); });
    // b sends a frame of 80 ms on the links: it is on its way when b leaves, and arrives before b's FIN.
    net.schedule(ib, Time{250ms}, [&] { b.send_to(*b.last_connected, frame_of(4, 1'000'000)); });
    net.schedule(ib, Time{500ms}, [&] { b.datagram_to(net.address(ia), Bytes{1}); });  // never runs
    net.run(Time{300ms});
    EXPECT_TRUE(net.online(ib));
    net.schedule(ib, Time{0}, [&] { b.datagram_to(net.address(ia), Bytes{2}); });  // the leave comes first
    net.leave(ib);
    EXPECT_FALSE(net.online(ib));
    EXPECT_TRUE(net.online(ia));
    net.schedule(ia, Time{600ms}, [&] { a.dial_to(net.address(ib)); });  // nobody answers
    net.run(Time{2s});
    ASSERT_EQ(a.of("frame").size(), 1u);
    ASSERT_EQ(a.of("disconnect").size(), 1u);
    EXPECT_GT(a.of("disconnect")[0].at, a.of("frame")[0].at);
    EXPECT_GE(a.of("frame")[0].at, Time{350ms});
    EXPECT_TRUE(b.of("disconnect").empty());  // gone: its endpoint is no longer driven
    EXPECT_EQ(net.counters(ib).datagrams_sent.total.frames, 0u);
    ASSERT_EQ(a.of("dial failed").size(), 1u);
    EXPECT_EQ(a.of("dial failed")[0].at, Time{1600ms});
    EXPECT_EQ(net.counters(ia).connections, 0u);
}

TEST(SimGridNet, TheFrameHookAltersOrDropsFramesOnTheirWay) {
    SimGridNet net{exact()};
    Recorder a;
    Recorder b;
    b.echo = true;
    const auto ia = net.add_node(a, node());
    const auto ib = net.add_node(b, node());
    std::vector<std::pair<std::size_t, std::size_t>> seen;
    net.set_frame_hook([&](std::size_t from, std::size_t to, Bytes& frame) {
        seen.emplace_back(from, to);
        if (from != ia) return;
        if (frame[0] == 1) frame[1] = 0xee;
        if (frame[0] == 2) frame.clear();
    });
    net.schedule(ia, Time{0}, [&] { a.dial_to(net.address(ib)); });
    net.schedule(ia, Time{200ms}, [&] {
        a.send_to(*a.last_connected, frame_of(1, 10));
        a.send_to(*a.last_connected, frame_of(2, 20));
        a.send_to(*a.last_connected, frame_of(3, 30));
    });
    net.run(Time{1s});
    const auto got = b.of("frame");
    ASSERT_EQ(got.size(), 2u);
    Bytes altered = frame_of(1, 10);
    altered[1] = 0xee;
    EXPECT_EQ(got[0].bytes, altered);
    EXPECT_EQ(got[1].bytes, frame_of(3, 30));
    EXPECT_EQ(net.counters(ia).frames_dropped.of_type(2).frames, 1u);
    EXPECT_EQ(net.counters(ia).frames_dropped.of_type(2).bytes, 20u);
    EXPECT_EQ(net.counters(ia).frames_sent.total.frames, 2u);
    // The echoes pass unaltered; the hook named the nodes.
    ASSERT_EQ(a.of("frame").size(), 2u);
    EXPECT_EQ(a.of("frame")[0].bytes, altered);
    const std::vector<std::pair<std::size_t, std::size_t>> want{{ia, ib}, {ia, ib}, {ia, ib}, {ib, ia}, {ib, ia}};
    EXPECT_EQ(seen, want);
}

}  // namespace
}  // namespace carousel::net
