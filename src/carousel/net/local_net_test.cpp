// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "local_net.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace carousel::net {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMegabyte = 1'000'000;

// What an endpoint saw: 'c' connect, 'd' disconnect, 'f' frame, 't' timer, 'D' dialed, 'F' dial
// failed, 'g' datagram.
struct Seen {
    Time at{0};
    char what{0};
    PeerId peer{0};
    Bytes frame;
    Address address{};
    friend bool operator==(const Seen&, const Seen&) = default;
};

Bytes frame_of(uint8_t type, std::size_t size, uint8_t fill = 0xab) {
    Bytes f(size, fill);
    f[0] = type;
    return f;
}

// Records everything (datagrams apart, in `datagrams`); tests drive it through LocalNet::post().
class Recorder : public Endpoint {
  public:
    using Endpoint::dial;
    using Endpoint::disconnect;
    using Endpoint::send;
    using Endpoint::send_datagram;

    void on_dialed(const Address& to, PeerId peer, Time now) override {
        log.push_back({now, 'D', peer, {}, to});
        if (greet_on_dial) send(peer, frame_of(0x42, 10));
    }
    void on_dial_failed(const Address& to, Time now) override { log.push_back({now, 'F', 0, {}, to}); }
    void on_connect(PeerId peer, Time now) override { log.push_back({now, 'c', peer, {}}); }
    void on_disconnect(PeerId peer, Time now) override { log.push_back({now, 'd', peer, {}}); }
    void on_frame(PeerId from, ByteView frame, Time now) override {
        log.push_back({now, 'f', from, Bytes{frame}});
        if (echo) send(from, Bytes{frame});
        if (disconnect_on_type && frame[0] == *disconnect_on_type) disconnect(from, "bad frame");
    }
    void on_datagram(const Address& from, ByteView datagram, Time now) override {
        datagrams.push_back({now, 'g', 0, Bytes{datagram}, from});
        if (echo_datagrams) send_datagram(from, Bytes{datagram});
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
    std::vector<Seen> datagrams;  // 'g', from `address`
    std::optional<Time> deadline;
    bool echo{false};
    bool echo_datagrams{false};
    bool greet_on_dial{false};  // sends a frame from on_dialed, before on_connect
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

// splitmix64: the tests' own deterministic choices.
class SplitMix {
  public:
    explicit SplitMix(uint64_t seed) : state_{seed} {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
        z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
        return z ^ (z >> 31);
    }

  private:
    uint64_t state_;
};

// Bounces frames of changing sizes between its peers and ticks every few milliseconds.
class Bouncer : public Endpoint {
  public:
    explicit Bouncer(uint64_t seed) : random_{seed} {}

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
    uint64_t next() { return random_.next(); }
    std::size_t next_size() { return 2 + next() % 20'000; }

    SplitMix random_;
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

// --- addresses and dialing ------------------------------------------------------------------------

LinkModel fixed_latency(Time latency) {
    return [latency](PeerId, PeerId) { return LinkSettings{.latency = latency}; };
}

const Address kNowhere{.ip = {192, 168, 7, 1}, .port = 4000};

TEST(LocalNet, NodesHaveUniqueAddresses) {
    LocalNet net;
    Recorder a, b;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    EXPECT_EQ(proto::to_string(net.address(ia)), "10.0.0.1:30303");
    EXPECT_EQ(proto::to_string(default_address(0x010203)), "10.1.2.3:30303");
    EXPECT_EQ(net.node_at(net.address(ib)), ib);
    EXPECT_EQ(net.node_at(kNowhere), std::nullopt);

    EXPECT_FALSE(net.set_address(ib, net.address(ia)));     // taken
    EXPECT_FALSE(net.set_address(ib, default_address(3)));  // reserved for node 3
    EXPECT_TRUE(net.set_address(ib, kNowhere));
    EXPECT_EQ(net.address(ib), kNowhere);
    EXPECT_EQ(net.node_at(kNowhere), ib);
    EXPECT_EQ(net.node_at(default_address(ib)), std::nullopt);
    EXPECT_TRUE(net.set_address(ib, default_address(ib)));  // its own again
    EXPECT_EQ(net.node_at(kNowhere), std::nullopt);
    EXPECT_THROW((void)default_address(PeerId{1} << 24), std::out_of_range);
}

TEST(LocalNet, DialLinksAfterOneRoundTrip) {
    LocalNet net;
    net.set_link_model(fixed_latency(10ms));
    Recorder a, b;
    a.greet_on_dial = true;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    net.post(
        ia, [&] { a.dial(net.address(ib)); }, 5ms);
    net.run_until(24ms);
    EXPECT_FALSE(net.connected(ia, ib));
    EXPECT_TRUE(a.log.empty());
    ASSERT_TRUE(net.run_until_idle());
    // The dialer hears of it after one round trip, on_dialed first; the dialed node at the same time.
    EXPECT_EQ(a.log, (std::vector<Seen>{{25ms, 'D', ib, {}, net.address(ib)}, {25ms, 'c', ib, {}}}));
    // The frame sent from on_dialed arrives after the dialed node's on_connect, a latency later.
    EXPECT_EQ(b.log, (std::vector<Seen>{{25ms, 'c', ia, {}}, {35ms, 'f', ia, frame_of(0x42, 10)}}));
    EXPECT_TRUE(net.connected(ia, ib));
    EXPECT_EQ(net.connection_count(ia), 1u);
    EXPECT_EQ(net.connection_count(ib), 1u);
}

TEST(LocalNet, DialThatCannotCompleteFailsAfterTheTimeout) {
    LocalNet net;
    net.set_link_model(fixed_latency(10ms));
    net.set_dial_timeout(3s);
    Recorder a, b, c;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    const PeerId ic = net.add(c);
    net.set_online(ib, false);
    net.post(
        ia,
        [&] {
            a.dial(kNowhere);         // no such node
            a.dial(net.address(ib));  // offline
            a.dial(net.address(ia));  // itself
        },
        1s);
    net.post(
        ia, [&] { a.dial(net.address(ic)); }, 2s);
    net.run_until(2s + 10ms);
    net.set_online(ic, false);  // in the middle of the handshake
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(a.log, (std::vector<Seen>{{4s, 'F', 0, {}, kNowhere},
                                        {4s, 'F', 0, {}, net.address(ib)},
                                        {4s, 'F', 0, {}, net.address(ia)},
                                        {5s, 'F', 0, {}, net.address(ic)}}));
    EXPECT_TRUE(b.log.empty());
    EXPECT_TRUE(c.log.empty());
    EXPECT_EQ(net.peak_connections(ia), 0u);

    // A round trip longer than the timeout fails too, at the timeout.
    net.set_online(ic, true);
    net.set_link_model(fixed_latency(2s));
    net.post(ia, [&] { a.dial(net.address(ic)); });
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(a.log.back(), (Seen{8s, 'F', 0, {}, net.address(ic)}));
    EXPECT_FALSE(net.connected(ia, ic));
}

TEST(LocalNet, DialToAPeerAlreadyLinkedAddsNoLink) {
    LocalNet net;
    net.set_link_model(fixed_latency(10ms));
    Recorder a, b, c, d;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    const PeerId ic = net.add(c);
    const PeerId id = net.add(d);
    ASSERT_TRUE(net.connect(ia, ib, {.latency = 1ms}));
    net.post(ia, [&] { a.dial(net.address(ib)); });
    // c and d dial each other at once: the first handshake to end makes the link.
    net.post(ic, [&] { c.dial(net.address(id)); });
    net.post(id, [&] { d.dial(net.address(ic)); });
    ASSERT_TRUE(net.run_until_idle());

    // on_dialed alone, after the link's on_connect.
    EXPECT_EQ(a.log, (std::vector<Seen>{{0ms, 'c', ib, {}}, {20ms, 'D', ib, {}, net.address(ib)}}));
    EXPECT_EQ(b.log, (std::vector<Seen>{{0ms, 'c', ia, {}}}));
    // One on_connect each; d's on_dialed comes before it, as if d's own dial had made the link.
    EXPECT_EQ(c.log, (std::vector<Seen>{{20ms, 'D', id, {}, net.address(id)}, {20ms, 'c', id, {}}}));
    EXPECT_EQ(d.log, (std::vector<Seen>{{20ms, 'D', ic, {}, net.address(ic)}, {20ms, 'c', ic, {}}}));
    EXPECT_EQ(net.peers(ic), std::vector<PeerId>{id});
    EXPECT_EQ(net.peak_connections(ia), 1u);
    EXPECT_EQ(net.peak_connections(id), 1u);
    // The link a dial makes has the link model's latency.
    net.post(ic, [&] { c.send(id, frame_of(1, 10)); });
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(d.frame_times(), std::vector<Time>{30ms});
}

TEST(LocalNet, CountsCurrentAndPeakConnections) {
    LocalNet net;
    std::vector<Recorder> nodes(5);
    for (auto& n : nodes) net.add(n);
    // Node 1 dials 2, 3 and 4, and 5 dials it.
    net.post(1, [&] {
        for (const PeerId to : {PeerId{2}, PeerId{3}, PeerId{4}}) nodes[0].dial(net.address(to));
    });
    net.post(5, [&] { nodes[4].dial(net.address(1)); });
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(net.connection_count(1), 4u);
    net.post(1, [&] {
        nodes[0].disconnect(2, "enough");
        nodes[0].disconnect(3, "enough");
    });
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(net.connection_count(1), 2u);
    EXPECT_EQ(net.peak_connections(1), 4u);
    EXPECT_EQ(net.connection_count(2), 0u);
    EXPECT_EQ(net.peak_connections(2), 1u);
    // Links that connect() makes count too.
    ASSERT_TRUE(net.connect(2, 3));
    ASSERT_TRUE(net.connect(2, 4));
    EXPECT_EQ(net.peak_connections(2), 2u);
    net.set_online(2, false);
    EXPECT_EQ(net.connection_count(2), 0u);
    EXPECT_EQ(net.peak_connections(2), 2u);
}

// --- datagrams ------------------------------------------------------------------------------------

TEST(LocalNet, DatagramsTakeLatencyAndBandwidthWithoutALink) {
    LocalNet net;
    // Per pair: x + y milliseconds, so 3 ms between nodes 1 and 2.
    net.set_link_model(
        [](PeerId x, PeerId y) { return LinkSettings{.latency = Time{1'000 * static_cast<int64_t>(x + y)}}; });
    Recorder a, b;
    a.deadline = 2ms;
    b.echo_datagrams = true;
    const PeerId ia = net.add(a, {.uplink_bytes_per_second = kMegabyte});
    const PeerId ib = net.add(b);
    net.post(ia, [&] {
        a.send_datagram(net.address(ib), frame_of(1, 1'000));
        a.send_datagram(net.address(ib), frame_of(2, 1'000));
    });
    ASSERT_TRUE(net.run_until_idle());
    // 1 ms each on a's uplink, one after the other, then 3 ms; the echoes leave b's unlimited uplink
    // at once and take 3 ms back.
    EXPECT_EQ(b.datagrams, (std::vector<Seen>{{4ms, 'g', 0, frame_of(1, 1'000), net.address(ia)},
                                              {5ms, 'g', 0, frame_of(2, 1'000), net.address(ia)}}));
    EXPECT_EQ(a.datagrams, (std::vector<Seen>{{7ms, 'g', 0, frame_of(1, 1'000), net.address(ib)},
                                              {8ms, 'g', 0, frame_of(2, 1'000), net.address(ib)}}));
    EXPECT_FALSE(net.connected(ia, ib));
    // No connection event: only a's timer.
    EXPECT_EQ(a.log, (std::vector<Seen>{{2ms, 't', 0, {}}}));
    EXPECT_TRUE(b.log.empty());
    EXPECT_EQ(net.datagram_metrics(ia).sent.total, (Traffic{2, 2'000}));
    EXPECT_EQ(net.datagram_metrics(ia).received.of_type(2), (Traffic{1, 1'000}));
    EXPECT_EQ(net.total_datagram_metrics().received.total, (Traffic{4, 4'000}));
    EXPECT_EQ(net.total_metrics().sent.total, Traffic{});  // frames are counted apart

    // Frames and datagrams share the uplink: a datagram waits behind a frame sent before it.
    ASSERT_TRUE(net.connect(ia, ib, {.latency = 3ms}));
    net.post(ia, [&] {
        a.send(ib, frame_of(9, 2'000));
        a.send_datagram(net.address(ib), frame_of(3, 1'000));
    });
    const Time sent = net.now();
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(b.frame_times(), std::vector<Time>{sent + 5ms});
    EXPECT_EQ(b.datagrams.back(), (Seen{sent + 6ms, 'g', 0, frame_of(3, 1'000), net.address(ia)}));
}

TEST(LocalNet, UndeliverableDatagramsAreDroppedAndCounted) {
    LocalNet net;
    net.set_link_model(fixed_latency(5ms));
    Recorder a, b, c;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    const PeerId ic = net.add(c);
    net.set_online(ic, false);
    std::vector<TraceEntry> drops;
    net.set_trace([&](const TraceEntry& e) {
        if (e.kind == TraceEntry::Kind::kDatagramDrop) drops.push_back(e);
    });
    net.post(ia, [&] {
        a.send_datagram(net.address(ib), Bytes{});                                   // empty
        a.send_datagram(net.address(ib), frame_of(1, proto::kMaxDatagramSize + 1));  // oversize
        a.send_datagram(kNowhere, frame_of(2, 10));                                  // no such node
        a.send_datagram(net.address(ic), frame_of(3, 10));                           // offline
        a.send_datagram(net.address(ia), frame_of(5, 10));                           // itself
        a.send_datagram(net.address(ib), frame_of(6, proto::kMaxDatagramSize));      // the largest there is
    });
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(b.datagrams, (std::vector<Seen>{{5ms, 'g', 0, frame_of(6, proto::kMaxDatagramSize), net.address(ia)}}));

    // One in flight when its receiver goes offline is dropped when it arrives.
    net.post(ia, [&] { a.send_datagram(net.address(ib), frame_of(7, 10)); });
    net.run_until(7ms);
    net.set_online(ib, false);
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(b.datagrams.size(), 1u);

    const Metrics& m = net.datagram_metrics(ia);
    EXPECT_EQ(m.sent.total, (Traffic{2, proto::kMaxDatagramSize + 10}));
    EXPECT_EQ(m.dropped.total, (Traffic{6, proto::kMaxDatagramSize + 1 + 40}));
    EXPECT_EQ(m.dropped.of_type(7), (Traffic{1, 10}));
    EXPECT_EQ(net.total_datagram_metrics().dropped.total.frames, 6u);
    EXPECT_EQ(net.datagram_metrics(ib).received.total.frames, 1u);
    ASSERT_EQ(drops.size(), 6u);
    const std::vector<PeerId> to{ib, ib, 0, ic, ia, ib};
    for (std::size_t i = 0; i < drops.size(); ++i) {
        EXPECT_EQ(drops[i].node, ia) << i;
        EXPECT_EQ(drops[i].peer, to[i]) << i;
    }
    EXPECT_EQ(drops[2].address, kNowhere);
    EXPECT_EQ(drops[5].at, 10ms);
}

// Every node's endpoint gets datagrams: one that speaks none keeps the default on_datagram, which
// ignores them (they are delivered and counted, not dropped).
TEST(LocalNet, AnEndpointThatSpeaksNoDatagramsIgnoresThem) {
    struct FramesOnly final : Endpoint {
        void on_frame(PeerId, ByteView, Time) override {}
    };
    LocalNet net;
    Recorder a;
    FramesOnly quiet;
    const PeerId ia = net.add(a);
    const PeerId iq = net.add(quiet);
    net.post(ia, [&] { a.send_datagram(net.address(iq), frame_of(4, 10)); });
    ASSERT_TRUE(net.run_until_idle());
    EXPECT_EQ(net.datagram_metrics(iq).received.total, (Traffic{1, 10}));
    EXPECT_EQ(net.total_datagram_metrics().dropped.total, Traffic{});
    EXPECT_TRUE(quiet.take_datagrams().empty());
}

TEST(LocalNet, DatagramHookDropsAndAltersDatagrams) {
    LocalNet net;
    Recorder a, b;
    const PeerId ia = net.add(a);
    const PeerId ib = net.add(b);
    std::vector<Address> seen_by_hook;
    net.set_datagram_hook([&](PeerId from, const Address& to, Bytes& d) {
        EXPECT_EQ(from, ia);
        seen_by_hook.push_back(to);
        if (d[0] == 1) d.clear();
        if (d[0] == 2) d[1] ^= 0xff;
        if (d[0] == 3) d.resize(proto::kMaxDatagramSize + 1);
    });
    net.post(ia, [&] {
        for (uint8_t type = 1; type <= 4; ++type) a.send_datagram(net.address(ib), frame_of(type, 8, 0x11));
        a.send_datagram(kNowhere, frame_of(5, 8));  // dropped before the hook
    });
    ASSERT_TRUE(net.run_until_idle());
    Bytes altered = frame_of(2, 8, 0x11);
    altered[1] ^= 0xff;
    EXPECT_EQ(b.datagrams, (std::vector<Seen>{{0ms, 'g', 0, altered, net.address(ia)},
                                              {0ms, 'g', 0, frame_of(4, 8, 0x11), net.address(ia)}}));
    EXPECT_EQ(seen_by_hook.size(), 4u);
    EXPECT_EQ(net.datagram_metrics(ia).dropped.total, (Traffic{3, 24}));  // at the size sent
    EXPECT_EQ(net.datagram_metrics(ia).dropped.of_type(3), (Traffic{1, 8}));
}

// --- determinism with dials and datagrams ---------------------------------------------------------

// A node of the churn scenario. Data side: greets each new peer, answers frames up to type 4 and
// then drops the peer. Discovery side: pings a random default address (sometimes of no node,
// sometimes oversize) every few milliseconds, and dials whoever pings it while it has fewer than
// three links.
class ChurnNode : public Endpoint {
  public:
    using Endpoint::dial;

    ChurnNode(uint64_t seed, PeerId nodes) : random_{seed}, nodes_{nodes} {}

    void on_dialed(const Address& to, PeerId peer, Time now) override { seen.push_back({now, 'D', peer, {}, to}); }
    void on_dial_failed(const Address& to, Time now) override { seen.push_back({now, 'F', 0, {}, to}); }
    void on_connect(PeerId peer, Time now) override {
        ++links_;
        seen.push_back({now, 'c', peer, {}});
        send(peer, frame_of(1, 100 + peer));
    }
    void on_disconnect(PeerId peer, Time now) override {
        --links_;
        seen.push_back({now, 'd', peer, {}});
    }
    void on_frame(PeerId from, ByteView frame, Time now) override {
        seen.push_back({now, 'f', from, Bytes{frame}});
        if (frame[0] < 4) {
            send(from, frame_of(static_cast<uint8_t>(frame[0] + 1), 3'000));
        } else {
            disconnect(from, "done");
        }
    }

    void on_datagram(const Address& from, ByteView datagram, Time now) override {
        pinged.push_back({now, 'g', 0, Bytes{datagram}, from});
        if (links_ < 3) dial(from);
    }
    std::optional<Time> next_deadline() const override { return next_tick_; }
    void on_timer(Time now) override {
        pinged.push_back({now, 't', 0, {}});
        next_tick_ = now + Time{2'000 + static_cast<int64_t>(random_.next() % 3'000)};
        const PeerId to = 1 + random_.next() % (nodes_ + 1);
        send_datagram(default_address(to), frame_of(7, 1 + random_.next() % 1'400));
    }

    std::vector<Seen> seen;    // the data side's events
    std::vector<Seen> pinged;  // the discovery side's

  private:
    std::size_t links_{0};
    SplitMix random_;
    PeerId nodes_;
    std::optional<Time> next_tick_{Time{1'000}};
};

ScenarioResult run_churn_scenario() {
    constexpr PeerId kNodes = 8;
    LocalNet net;
    ScenarioResult result;
    net.set_trace([&](const TraceEntry& e) { result.trace.push_back(e); });
    net.set_link_model(
        [](PeerId x, PeerId y) { return LinkSettings{.latency = Time{500 * static_cast<int64_t>(x * y % 7 + 1)}}; });
    net.set_dial_timeout(20ms);
    std::vector<ChurnNode> nodes;
    nodes.reserve(kNodes);
    for (PeerId i = 0; i < kNodes; ++i) nodes.emplace_back(i, kNodes);
    for (PeerId i = 0; i < kNodes; ++i) {
        net.add(nodes[i], {.uplink_bytes_per_second = 2'000'000 + 100'000 * i, .downlink_bytes_per_second = 3'000'000});
    }
    net.post(
        1, [&] { nodes[0].dial(kNowhere); }, 10ms);
    net.run_until(100ms);
    net.set_online(3, false);
    net.run_until(200ms);
    net.set_online(3, true);
    net.run_until(300ms);
    for (PeerId i = 0; i < kNodes; ++i) {
        result.seen.push_back(nodes[i].seen);
        result.seen.push_back(nodes[i].pinged);
    }
    result.total = net.total_datagram_metrics();
    return result;
}

TEST(LocalNet, RunsWithDialsAndDatagramsAreIdentical) {
    const ScenarioResult first = run_churn_scenario();
    const ScenarioResult second = run_churn_scenario();
    EXPECT_EQ(first.trace, second.trace);
    EXPECT_EQ(first.seen, second.seen);
    EXPECT_EQ(first.total.sent, second.total.sent);
    EXPECT_EQ(first.total.dropped, second.total.dropped);
    // The scenario did exercise dials and datagrams of every outcome.
    std::map<TraceEntry::Kind, std::size_t> kinds;
    for (const auto& e : first.trace) ++kinds[e.kind];
    for (const auto kind : {TraceEntry::Kind::kDial, TraceEntry::Kind::kDialed, TraceEntry::Kind::kDialFailed,
                            TraceEntry::Kind::kDatagram, TraceEntry::Kind::kDatagramDrop, TraceEntry::Kind::kTimer,
                            TraceEntry::Kind::kConnect, TraceEntry::Kind::kDisconnect, TraceEntry::Kind::kFrame}) {
        EXPECT_GT(kinds[kind], 0u) << static_cast<int>(kind);
    }
    EXPECT_TRUE(std::is_sorted(first.trace.begin(), first.trace.end(),
                               [](const TraceEntry& x, const TraceEntry& y) { return x.at < y.at; }));
}

}  // namespace
}  // namespace carousel::net
