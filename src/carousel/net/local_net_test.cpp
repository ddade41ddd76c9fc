// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "local_net.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace carousel::net {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMegabyte = 1'000'000;

// What an endpoint saw: 'c' connect, 'd' disconnect, 'f' frame, 't' timer.
struct Seen {
    Time at{0};
    char what{0};
    PeerId peer{0};
    Bytes frame;
    friend bool operator==(const Seen&, const Seen&) = default;
};

Bytes frame_of(uint8_t type, std::size_t size, uint8_t fill = 0xab) {
    Bytes f(size, fill);
    f[0] = type;
    return f;
}

// Records everything; tests drive it through LocalNet::post().
class Recorder : public Endpoint {
  public:
    using Endpoint::disconnect;
    using Endpoint::send;

    void on_connect(PeerId peer, Time now) override { log.push_back({now, 'c', peer, {}}); }
    void on_disconnect(PeerId peer, Time now) override { log.push_back({now, 'd', peer, {}}); }
    void on_frame(PeerId from, ByteView frame, Time now) override {
        log.push_back({now, 'f', from, Bytes{frame}});
        if (echo) send(from, Bytes{frame});
        if (disconnect_on_type && frame[0] == *disconnect_on_type) disconnect(from, "bad frame");
    }
    std::optional<Time> next_deadline() const override { return deadline; }
    void on_timer(Time now) override {
        log.push_back({now, 't', 0, {}});
        deadline.reset();
    }

    [[nodiscard]] std::vector<Seen> of_kind(char what) const {
        std::vector<Seen> out;
        std::copy_if(log.begin(), log.end(), std::back_inserter(out), [&](const Seen& s) { return s.what == what; });
        return out;
    }
    [[nodiscard]] std::vector<Time> frame_times() const {
        std::vector<Time> out;
        for (const auto& s : of_kind('f')) out.push_back(s.at);
        return out;
    }

    std::vector<Seen> log;
    std::optional<Time> deadline;
    bool echo{false};
    std::optional<uint8_t> disconnect_on_type;
};

// --- latency and bandwidth arithmetic -------------------------------------------------------------

TEST(LocalNet, LoneFrameArrivesAfterSerializationPlusLatency) {
    LocalNet net;
    Recorder a, b;
    const PeerId ia = net.add(a, {.uplink_bytes_per_second = kMegabyte, .downlink_bytes_per_second = kMegabyte});
    const PeerId ib = net.add(b, {.uplink_bytes_per_second = kMegabyte, .downlink_bytes_per_second = kMegabyte});
    ASSERT_TRUE(net.connect(ia, ib, {.latency = 50ms}));
    net.post(ia, [&] { a.send(ib, frame_of(1, kMegabyte)); });

    net.run_until(Time{1'049'999});
    EXPECT_TRUE(b.of_kind('f').empty());
    net.run_until(Time{1'050'000});
    EXPECT_EQ(b.frame_times(), std::vector<Time>{1'050'000us});
    EXPECT_EQ(net.now(), 1'050'000us);
}

TEST(LocalNet, FramesQueueBehindEachOther) {
    LocalNet net;
    Recorder a, b;
    const PeerId ia = net.add(a, {.uplink_bytes_per_second = kMegabyte, .downlink_bytes_per_second = kMegabyte});
    const PeerId ib = net.add(b, {.uplink_bytes_per_second = kMegabyte, .downlink_bytes_per_second = kMegabyte});
    ASSERT_TRUE(net.connect(ia, ib, {.latency = 50ms}));
    net.post(ia, [&] {
        a.send(ib, frame_of(1, kMegabyte));
        a.send(ib, frame_of(2, kMegabyte));
    });
    // After a pause the uplink is free again: a third frame starts when it is sent.
    net.post(
        ia, [&] { a.send(ib, frame_of(3, kMegabyte)); }, 5s);
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(b.frame_times(), (std::vector<Time>{1'050'000us, 2'050'000us, 6'050'000us}));
    EXPECT_EQ(b.of_kind('f')[1].frame[0], 2);  // in order
}

TEST(LocalNet, SenderUplinkIsSharedByItsLinks) {
    LocalNet net;
    Recorder a, b, c;
    const PeerId ia = net.add(a, {.uplink_bytes_per_second = kMegabyte});
    const PeerId ib = net.add(b);
    const PeerId ic = net.add(c);
    net.connect(ia, ib, {.latency = 10ms});
    net.connect(ia, ic, {.latency = 20ms});
    net.post(ia, [&] {
        a.send(ib, frame_of(1, kMegabyte));
        a.send(ic, frame_of(1, kMegabyte / 2));
    });
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(b.frame_times(), std::vector<Time>{1'010'000us});
    EXPECT_EQ(c.frame_times(), std::vector<Time>{1'520'000us});
}

TEST(LocalNet, ReceiverDownlinkIsSharedBySenders) {
    LocalNet net;
    Recorder a, b, c;
    const PeerId ia = net.add(a, {.downlink_bytes_per_second = kMegabyte});
    const PeerId ib = net.add(b);
    const PeerId ic = net.add(c);
    net.connect(ia, ib, {.latency = 50ms});
    net.connect(ia, ic, {.latency = 50ms});
    net.post(ib, [&] { b.send(ia, frame_of(1, kMegabyte)); });
    net.post(ic, [&] { c.send(ia, frame_of(2, kMegabyte)); });
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(a.frame_times(), (std::vector<Time>{1'050'000us, 2'050'000us}));
    EXPECT_EQ(a.of_kind('f')[0].peer, ib);
    EXPECT_EQ(a.of_kind('f')[1].peer, ic);
}

TEST(LocalNet, SlowerEndSetsThePace) {
    for (const auto& [up, down] : {std::pair{2 * kMegabyte, kMegabyte}, std::pair{kMegabyte, 2 * kMegabyte}}) {
        LocalNet net;
        Recorder a, b;
        const PeerId ia = net.add(a, {.uplink_bytes_per_second = up});
        const PeerId ib = net.add(b, {.downlink_bytes_per_second = down});
        net.connect(ia, ib, {.latency = 7ms});
        net.post(ia, [&] {
            a.send(ib, frame_of(1, kMegabyte));
            a.send(ib, frame_of(1, kMegabyte));
        });
        ASSERT_TRUE(net.run_until_idle());
        EXPECT_EQ(b.frame_times(), (std::vector<Time>{1'007'000us, 2'007'000us})) << up << " up, " << down << " down";
    }
}

TEST(LocalNet, SerializationRoundsUpToTheMicrosecond) {
    LocalNet net;
    Recorder a, b;
    const PeerId ia = net.add(a, {.uplink_bytes_per_second = 3});
    const PeerId ib = net.add(b);
    net.connect(ia, ib);
    net.post(ia, [&] {
        a.send(ib, frame_of(1, 1));
        a.send(ib, frame_of(1, 1));
        a.send(ib, frame_of(1, 1));
    });
    ASSERT_TRUE(net.run_until_idle());
    // 1/3 s is 333'333'334 ns each, kept in nanoseconds; deliveries round up to whole microseconds.
    EXPECT_EQ(b.frame_times(), (std::vector<Time>{333'334us, 666'667us, 1'000'001us}));
}

TEST(LocalNet, UnlimitedLinkDeliversAtOnceAfterConnect) {
    LocalNet net;
    Recorder a, b;
    b.echo = true;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    net.connect(ia, ib);
    net.post(ia, [&] { a.send(ib, frame_of(1, 10)); });
    ASSERT_TRUE(net.run_until_idle());
    ASSERT_EQ(b.log.size(), 2u);
    EXPECT_EQ(b.log[0].what, 'c');  // on_connect comes before any frame
    EXPECT_EQ(b.log[1].what, 'f');
    EXPECT_EQ(a.frame_times(), std::vector<Time>{0us});
}

// --- determinism ----------------------------------------------------------------------------------

// Bounces frames of changing sizes between its peers and ticks every few milliseconds.
class Bouncer : public Endpoint {
  public:
    explicit Bouncer(uint64_t seed) : state_{seed} {}

    void on_connect(PeerId peer, Time now) override {
        peers_.insert(peer);
        seen.push_back({now, 'c', peer, {}});
        send(peer, frame_of(1, next_size()));
    }
    void on_disconnect(PeerId peer, Time now) override {
        peers_.erase(peer);
        seen.push_back({now, 'd', peer, {}});
    }
    void on_frame(PeerId from, ByteView frame, Time now) override {
        seen.push_back({now, 'f', from, Bytes{frame}});
        if (frame[0] < 6) send(from, frame_of(static_cast<uint8_t>(frame[0] + 1), next_size(), frame[1]));
    }
    std::optional<Time> next_deadline() const override { return next_tick_; }
    void on_timer(Time now) override {
        seen.push_back({now, 't', 0, {}});
        next_tick_ = now + Time{3'000 + static_cast<int64_t>(next() % 2'000)};
        if (!peers_.empty()) {
            auto it = peers_.begin();
            std::advance(it, static_cast<long>(next() % peers_.size()));
            send(*it, frame_of(9, next_size(), static_cast<uint8_t>(next())));
        }
    }

    std::vector<Seen> seen;

  private:
    uint64_t next() {  // splitmix64
        uint64_t z = (state_ += 0x9e3779b97f4a7c15);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
        z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
        return z ^ (z >> 31);
    }
    std::size_t next_size() { return 2 + next() % 20'000; }

    uint64_t state_;
    std::set<PeerId> peers_;
    std::optional<Time> next_tick_{Time{1'000}};
};

struct ScenarioResult {
    std::vector<TraceEntry> trace;
    std::vector<std::vector<Seen>> seen;
    Metrics total;
};

ScenarioResult run_bouncing_scenario() {
    LocalNet net;
    std::vector<Bouncer> nodes;
    for (uint64_t i = 0; i < 6; ++i) nodes.emplace_back(i);
    ScenarioResult result;
    net.set_trace([&](const TraceEntry& e) { result.trace.push_back(e); });
    std::vector<PeerId> ids;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        ids.push_back(net.add(nodes[i], {.uplink_bytes_per_second = 1'000'000 * (i + 1),
                                         .downlink_bytes_per_second = 3'000'000 - 250'000 * i}));
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
        for (std::size_t j = i + 1; j < ids.size(); ++j) {
            net.connect(ids[i], ids[j], {.latency = Time{static_cast<int64_t>(1'000 + 700 * i + 300 * j)}});
        }
    }
    net.set_frame_hook(on_nth_frame(ids[1], ids[2], 3, [](Bytes& f) { f.clear(); }));
    net.run_until(150ms);
    net.disconnect(ids[0], ids[5]);
    net.set_online(ids[3], false);
    net.run_until(300ms);
    net.set_online(ids[3], true);
    net.connect(ids[3], ids[0], {.latency = 2ms});
    net.run_until(500ms);
    for (const auto& n : nodes) result.seen.push_back(n.seen);
    result.total = net.total_metrics();
    return result;
}

TEST(LocalNet, RunsAreIdenticalEventForEvent) {
    const ScenarioResult first = run_bouncing_scenario();
    const ScenarioResult second = run_bouncing_scenario();
    ASSERT_GT(first.trace.size(), 1'000u);
    EXPECT_EQ(first.trace, second.trace);
    EXPECT_EQ(first.seen, second.seen);
    EXPECT_EQ(first.total.sent, second.total.sent);
    EXPECT_EQ(first.total.dropped, second.total.dropped);
    // The scenario did exercise every kind of event.
    std::set<TraceEntry::Kind> kinds;
    for (const auto& e : first.trace) kinds.insert(e.kind);
    EXPECT_EQ(kinds.size(), 5u);
    // And time never went backwards.
    EXPECT_TRUE(std::is_sorted(first.trace.begin(), first.trace.end(),
                               [](const TraceEntry& x, const TraceEntry& y) { return x.at < y.at; }));
}

// --- timers ---------------------------------------------------------------------------------------

TEST(LocalNet, TimerFiresAtTheDeadline) {
    LocalNet net;
    Recorder a;
    a.deadline = 5ms;
    const PeerId ia = net.add(a);
    EXPECT_TRUE(net.run_until_idle());
    ASSERT_EQ(a.of_kind('t').size(), 1u);
    EXPECT_EQ(a.of_kind('t')[0].at, 5ms);

    // Re-armed earlier: fires once, at the new deadline; the old event is stale.
    a.deadline = 10ms + 5ms;
    net.post(
        ia, [&] {}, 6ms);  // lets the driver see the new deadline at 6 ms
    net.post(
        ia, [&] { a.deadline = 8ms; }, 7ms);
    EXPECT_TRUE(net.run_until_idle());
    ASSERT_EQ(a.of_kind('t').size(), 2u);
    EXPECT_EQ(a.of_kind('t')[1].at, 8ms);

    // A deadline in the past fires at once; a disarmed timer never fires.
    net.post(
        ia, [&] { a.deadline = 1ms; }, 20ms);
    net.post(
        ia, [&] { a.deadline = 40ms; }, 30ms);
    net.post(
        ia, [&] { a.deadline.reset(); }, 35ms);
    EXPECT_TRUE(net.run_until_idle());
    ASSERT_EQ(a.of_kind('t').size(), 3u);
    EXPECT_EQ(a.of_kind('t')[2].at, 20ms);
    EXPECT_EQ(net.now(), 35ms);
}

TEST(LocalNet, RunUntilStopsAtPredicateOrLimit) {
    LocalNet net;
    Bouncer a{1}, b{2};
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    net.connect(ia, ib, {.latency = 1ms});
    EXPECT_TRUE(net.run_until([&] { return b.seen.size() >= 3; }, 1s));
    EXPECT_EQ(b.seen.size(), 3u);
    EXPECT_EQ(net.now(), b.seen.back().at);
    EXPECT_FALSE(net.run_until([] { return false; }, 2s));
    EXPECT_EQ(net.now(), 2s);
    // Periodic timers: never idle.
    EXPECT_FALSE(net.run_until_idle(3s));
    EXPECT_LE(net.now(), 3s);
}

// --- faults ---------------------------------------------------------------------------------------

TEST(LocalNet, DisconnectCutsTheLinkAndDropsFramesInFlight) {
    LocalNet net;
    Recorder a, b;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    net.connect(ia, ib, {.latency = 10ms});
    net.post(ia, [&] { a.send(ib, frame_of(1, 100)); });
    net.run_until(5ms);
    EXPECT_TRUE(net.disconnect(ia, ib, "test cut"));
    EXPECT_FALSE(net.connected(ia, ib));
    EXPECT_FALSE(net.disconnect(ia, ib));
    net.post(ia, [&] { a.send(ib, frame_of(1, 50)); });
    EXPECT_TRUE(net.run_until_idle());

    EXPECT_EQ(a.log, (std::vector<Seen>{{0ms, 'c', ib, {}}, {5ms, 'd', ib, {}}}));
    EXPECT_EQ(b.log, (std::vector<Seen>{{0ms, 'c', ia, {}}, {5ms, 'd', ia, {}}}));
    const Metrics& m = net.metrics(ia);
    EXPECT_EQ(m.sent.total, (Traffic{1, 100}));     // the frame that entered the link
    EXPECT_EQ(m.dropped.total, (Traffic{2, 150}));  // cut in flight, and sent after the cut
    EXPECT_EQ(net.metrics(ib).received.total, Traffic{});
    ASSERT_EQ(net.disconnects().size(), 1u);
    EXPECT_EQ(net.disconnects()[0].by, 0u);
    EXPECT_EQ(net.disconnects()[0].reason, "test cut");

    // The pair may connect again; frames flow again.
    ASSERT_TRUE(net.connect(ia, ib, {.latency = 1ms}));
    net.post(ia, [&] { a.send(ib, frame_of(2, 10)); });
    EXPECT_TRUE(net.run_until_idle());
    EXPECT_EQ(b.of_kind('f').size(), 1u);
    EXPECT_EQ(b.of_kind('c').size(), 2u);
}

TEST(LocalNet, EndpointDisconnectIsRecordedWithItsReason) {
    LocalNet net;
    Recorder a, b;
    b.disconnect_on_type = 0x7f;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    net.connect(ia, ib, {.latency = 1ms});
    net.post(ia, [&] {
        a.send(ib, frame_of(0x7f, 10));
        a.send(ib, frame_of(0x01, 10));  // arrives after the cut: dropped
    });
    EXPECT_TRUE(net.run_until_idle());
    ASSERT_EQ(net.disconnects().size(), 1u);
    EXPECT_EQ(net.disconnects()[0].by, ib);
    EXPECT_EQ(net.disconnects()[0].reason, "bad frame");
    EXPECT_EQ(net.disconnects()[0].at, 1ms);
    EXPECT_EQ(b.of_kind('f').size(), 1u);
    // Both ends hear of it, the side that asked first.
    EXPECT_EQ(b.log.back(), (Seen{1ms, 'd', ia, {}}));
    EXPECT_EQ(a.log.back(), (Seen{1ms, 'd', ib, {}}));
    EXPECT_EQ(net.link_metrics(ia, ib).dropped.total.frames, 1u);
}

TEST(LocalNet, OfflineNodeLosesItsLinksUntilBackOnline) {
    LocalNet net;
    Recorder a, b, c;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    const PeerId ic = net.add(c);
    net.connect(ia, ib, {.latency = 3ms});
    net.connect(ia, ic, {.latency = 3ms});
    net.connect(ib, ic, {.latency = 3ms});
    net.run_until(1ms);
    net.post(ib, [&] { b.send(ia, frame_of(1, 10)); });
    net.run_until(2ms);
    net.set_online(ia, false);
    EXPECT_FALSE(net.online(ia));
    EXPECT_TRUE(net.peers(ia).empty());
    EXPECT_EQ(net.peers(ib), std::vector<PeerId>{ic});
    EXPECT_FALSE(net.connect(ia, ib));
    net.post(ia, [&] { a.send(ib, frame_of(1, 10)); });
    EXPECT_TRUE(net.run_until_idle());
    EXPECT_EQ(a.of_kind('d').size(), 2u);
    EXPECT_EQ(b.of_kind('d'), (std::vector<Seen>{{2ms, 'd', ia, {}}}));
    EXPECT_EQ(c.of_kind('d'), (std::vector<Seen>{{2ms, 'd', ia, {}}}));
    EXPECT_TRUE(a.of_kind('f').empty());  // b's frame was in flight
    EXPECT_EQ(net.metrics(ib).dropped.total.frames, 1u);
    EXPECT_EQ(net.metrics(ia).dropped.total.frames, 1u);

    net.set_online(ia, true);
    EXPECT_TRUE(net.connect(ia, ib));
    EXPECT_TRUE(net.run_until_idle());
    EXPECT_EQ(b.of_kind('c').size(), 3u);
}

TEST(LocalNet, FrameHookDropsAndCorruptsChosenFrames) {
    LocalNet net;
    Recorder a, b;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    net.connect(ia, ib, {.latency = 1ms});
    auto drop_second = on_nth_frame(ia, ib, 2, [](Bytes& f) { f.clear(); });
    auto corrupt_third = on_nth_frame(ia, ib, 3, [](Bytes& f) { f[1] ^= 0xff; });
    std::vector<std::pair<PeerId, PeerId>> seen_by_hook;
    net.set_frame_hook([&](PeerId from, PeerId to, Bytes& f) {
        seen_by_hook.emplace_back(from, to);
        drop_second(from, to, f);
        corrupt_third(from, to, f);
    });
    net.post(ia, [&] {
        for (uint8_t i = 1; i <= 4; ++i) a.send(ib, frame_of(i, 8, 0x11));
    });
    net.post(ib, [&] { b.send(ia, frame_of(9, 8)); });
    EXPECT_TRUE(net.run_until_idle());

    const auto frames = b.of_kind('f');
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0].frame, frame_of(1, 8, 0x11));
    Bytes corrupted = frame_of(3, 8, 0x11);
    corrupted[1] ^= 0xff;
    EXPECT_EQ(frames[1].frame, corrupted);
    EXPECT_EQ(frames[2].frame, frame_of(4, 8, 0x11));
    EXPECT_EQ(a.of_kind('f').size(), 1u);  // the other direction is untouched
    EXPECT_EQ(seen_by_hook.size(), 5u);
    const Metrics link = net.link_metrics(ia, ib);
    EXPECT_EQ(link.sent.total, (Traffic{3, 24}));
    EXPECT_EQ(link.dropped.total, (Traffic{1, 8}));
    EXPECT_EQ(link.dropped.of_type(2), (Traffic{1, 8}));
}

// --- metrics --------------------------------------------------------------------------------------

TEST(LocalNet, MetricsCountByNodeLinkAndType) {
    LocalNet net;
    Recorder a, b, c;
    b.echo = true;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    const PeerId ic = net.add(c);
    net.connect(ia, ib, {.latency = 1ms});
    net.post(ia, [&] {
        a.send(ib, frame_of(1, 10));
        a.send(ib, frame_of(1, 10));
        a.send(ib, frame_of(2, 100));
        a.send(ic, frame_of(3, 7));                         // connected to nobody: dropped
        a.send(99, frame_of(3, 5));                         // unknown peer: dropped
        a.send(ib, Bytes{});                                // empty: dropped
        a.send(ib, Bytes(proto::kMaxFrameSize + 1, 0x05));  // oversize: dropped
    });
    EXPECT_TRUE(net.run_until_idle());

    const Metrics& ma = net.metrics(ia);
    EXPECT_EQ(ma.sent.total, (Traffic{3, 120}));
    EXPECT_EQ(ma.sent.of_type(1), (Traffic{2, 20}));
    EXPECT_EQ(ma.sent.of_type(2), (Traffic{1, 100}));
    EXPECT_EQ(ma.received.total, (Traffic{3, 120}));  // the echoes
    EXPECT_EQ(ma.dropped.total, (Traffic{4, 12 + proto::kMaxFrameSize + 1}));
    EXPECT_EQ(ma.dropped.of_type(3), (Traffic{2, 12}));

    const Metrics& mb = net.metrics(ib);
    EXPECT_EQ(mb.received.of_type(1), (Traffic{2, 20}));
    EXPECT_EQ(mb.sent.total, (Traffic{3, 120}));

    EXPECT_EQ(net.link_metrics(ia, ib).sent.total, (Traffic{3, 120}));
    EXPECT_EQ(net.link_metrics(ia, ib).received.total, (Traffic{3, 120}));
    EXPECT_EQ(net.link_metrics(ib, ia).received.of_type(2), (Traffic{1, 100}));
    EXPECT_EQ(net.link_metrics(ia, ic).dropped.total, (Traffic{1, 7}));
    EXPECT_EQ(net.link_metrics(ia, 99).dropped.total, (Traffic{1, 5}));
    EXPECT_EQ(net.link_metrics(ic, ia).sent.total, Traffic{});
    EXPECT_EQ(net.metrics(ic).received.total, Traffic{});

    EXPECT_EQ(net.total_metrics().sent.total, (Traffic{6, 240}));
    EXPECT_EQ(net.total_metrics().received.total, (Traffic{6, 240}));
    EXPECT_EQ(net.total_metrics().dropped.total.frames, 4u);
}

TEST(LocalNet, RefusesBadConnects) {
    LocalNet net;
    Recorder a, b;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    EXPECT_FALSE(net.connect(ia, ia));
    EXPECT_FALSE(net.connect(ia, 42));
    EXPECT_FALSE(net.connect(0, ib));
    EXPECT_TRUE(net.connect(ia, ib));
    EXPECT_FALSE(net.connect(ib, ia));
    EXPECT_THROW((void)net.metrics(42), std::out_of_range);
}

}  // namespace
}  // namespace carousel::net
