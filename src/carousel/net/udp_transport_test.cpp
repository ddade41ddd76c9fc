// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "udp_transport.hpp"

// As in udp_transport.cpp: Asio 1.74's scheduler, inlined here for the raw socket, trips g++ 12's
// -Wnull-dereference.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <gtest/gtest.h>

// Every test talks to 127.0.0.1 only, and every wait below is bounded.
namespace carousel::net {
namespace {

using namespace std::chrono_literals;
using proto::Address;
using proto::kMaxDatagramSize;
using proto::Time;

constexpr auto kWait = 5s;
constexpr Address kLoopback{{127, 0, 0, 1}, 0};

Address loopback(uint16_t port) { return {kLoopback.ip, port}; }

Bytes datagram_of(std::size_t size, uint8_t seed) {
    Bytes d(size, 0);
    for (std::size_t i = 0; i < size; ++i) d[i] = static_cast<uint8_t>(seed + i * 13);
    return d;
}

// A test endpoint: records what it gets, echoes if asked, throws on a chosen first byte, keeps a
// timer. Its fields are touched on the transport thread only (read them through on_thread()).
class TestEndpoint : public proto::DatagramEndpoint {
  public:
    using DatagramEndpoint::send_datagram;

    void on_datagram(const Address& from, ByteView datagram, Time now) override {
        (void)now;
        if (throw_on && !datagram.empty() && datagram[0] == *throw_on) throw std::runtime_error("cannot digest this");
        received.emplace_back(from, Bytes{datagram});
        if (echo) send_datagram(from, Bytes{datagram});
    }
    std::optional<Time> next_deadline() const override { return deadline; }
    void on_timer(Time now) override {
        timer_fired.push_back(now);
        deadline.reset();
    }

    bool echo{false};
    std::optional<uint8_t> throw_on;
    std::optional<Time> deadline;
    std::vector<std::pair<Address, Bytes>> received;
    std::vector<Time> timer_fired;
};

// The transport's run() on a thread of its own, stopped and joined when this goes (also when a test
// fails early). As testing/transport_thread.hpp does for TcpTransport.
class Running {
  public:
    explicit Running(UdpTransport& t) : transport_{t}, thread_{[&t] { t.run(); }} {}
    ~Running() { stop(); }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
    void stop() {
        if (!thread_.joinable()) return;
        transport_.stop();
        thread_.join();
    }

  private:
    UdpTransport& transport_;
    std::thread thread_;
};

// Runs `fn` on t's thread and returns its result; throws if the thread does not answer in time.
template <typename Fn>
auto on_thread(UdpTransport& t, Fn fn) {
    using R = decltype(fn());
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    t.post([promise, fn]() mutable { promise->set_value(fn()); });
    if (future.wait_for(kWait) != std::future_status::ready) throw std::runtime_error("transport thread is stuck");
    return future.get();
}

// Polls `pred` on t's thread until it holds (true) or kWait passes (false).
template <typename Pred>
bool wait_until(UdpTransport& t, Pred pred) {
    const auto end = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < end) {
        if (on_thread(t, pred)) return true;
        std::this_thread::sleep_for(2ms);
    }
    return false;
}

// The stats once `pred` holds of them (or after kWait): a datagram's counters move as the transport
// thread reaches its completion, which may come after the endpoint has already seen a reply.
template <typename Pred>
UdpStats stats_when(const UdpTransport& t, Pred pred) {
    const auto end = std::chrono::steady_clock::now() + kWait;
    while (!pred(t.stats()) && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(2ms);
    return t.stats();
}

uint16_t bind_loopback(UdpTransport& t) {
    const auto port = t.bind("127.0.0.1", 0);
    if (!port) throw std::runtime_error("bind failed: " + port.error());
    return *port;
}

TEST(UdpTransport, ExchangesDatagramsBothWays) {
    TestEndpoint a_end;
    TestEndpoint b_end;
    b_end.echo = true;
    UdpTransport a{a_end};
    UdpTransport b{b_end};
    const uint16_t a_port = bind_loopback(a);
    const uint16_t b_port = bind_loopback(b);
    ASSERT_NE(a_port, 0);
    ASSERT_NE(a_port, b_port);
    const Running ra{a};
    const Running rb{b};

    // a -> b, echoed b -> a.
    a.post([&] { a_end.send_datagram(loopback(b_port), datagram_of(100, 1)); });
    ASSERT_TRUE(wait_until(a, [&] { return a_end.received.size() == 1; }));
    EXPECT_EQ(on_thread(a, [&] { return a_end.received[0]; }), std::make_pair(loopback(b_port), datagram_of(100, 1)));
    EXPECT_EQ(on_thread(b, [&] { return b_end.received[0]; }), std::make_pair(loopback(a_port), datagram_of(100, 1)));

    // b -> a on its own, the largest datagram allowed.
    b.post([&] { b_end.send_datagram(loopback(a_port), datagram_of(kMaxDatagramSize, 2)); });
    ASSERT_TRUE(wait_until(a, [&] { return a_end.received.size() == 2; }));
    EXPECT_EQ(on_thread(a, [&] { return a_end.received[1].second; }), datagram_of(kMaxDatagramSize, 2));

    const UdpStats as = stats_when(a, [](const UdpStats& s) { return s.datagrams_sent == 1; });
    EXPECT_EQ(as.datagrams_sent, 1u);
    EXPECT_EQ(as.bytes_sent, 100u);
    EXPECT_EQ(as.datagrams_received, 2u);
    EXPECT_EQ(as.bytes_received, 100u + kMaxDatagramSize);
    const UdpStats bs = stats_when(b, [](const UdpStats& s) { return s.datagrams_sent == 2; });
    EXPECT_EQ(bs.datagrams_sent, 2u);
    EXPECT_EQ(bs.datagrams_received, 1u);
}

TEST(UdpTransport, SendsOutOfBoundsAreDroppedAndCounted) {
    TestEndpoint a_end;
    TestEndpoint b_end;
    std::vector<std::string> lines;  // the transport thread's only until it stops
    UdpTransport a{a_end, {.log = [&lines](std::string_view l) { lines.emplace_back(l); }}};
    UdpTransport b{b_end};
    bind_loopback(a);
    const uint16_t b_port = bind_loopback(b);
    Running ra{a};
    const Running rb{b};
    a.post([&] {
        a_end.send_datagram(loopback(b_port), datagram_of(kMaxDatagramSize + 1, 3));
        a_end.send_datagram(loopback(b_port), Bytes{});
        a_end.send_datagram(loopback(b_port), datagram_of(7, 4));
    });
    ASSERT_TRUE(wait_until(b, [&] { return !b_end.received.empty(); }));
    EXPECT_EQ(on_thread(b, [&] { return b_end.received[0].second; }), datagram_of(7, 4));
    const UdpStats s = stats_when(a, [](const UdpStats& x) { return x.datagrams_sent == 1; });
    EXPECT_EQ(s.sends_out_of_bounds, 2u);
    EXPECT_EQ(s.datagrams_sent, 1u);
    ra.stop();
    ASSERT_EQ(lines.size(), 3u);  // bound, and the two drops
    EXPECT_NE(lines[1].find("1281 bytes"), std::string::npos) << lines[1];
    EXPECT_NE(lines[2].find("0 bytes"), std::string::npos) << lines[2];
}

// What no well-behaved peer sends, from a plain Asio socket: 1,281 bytes and nothing at all.
TEST(UdpTransport, ReceivedOversizeAndEmptyDatagramsAreDroppedAndCounted) {
    TestEndpoint a_end;
    UdpTransport a{a_end};
    const uint16_t a_port = bind_loopback(a);
    const Running ra{a};

    boost::asio::io_context ioc;
    boost::asio::ip::udp::socket raw{ioc, boost::asio::ip::udp::endpoint{boost::asio::ip::udp::v4(), 0}};
    const boost::asio::ip::udp::endpoint to{boost::asio::ip::make_address_v4("127.0.0.1"), a_port};
    const Bytes oversize = datagram_of(kMaxDatagramSize + 1, 5);
    const Bytes largest = datagram_of(kMaxDatagramSize, 6);
    raw.send_to(boost::asio::buffer(oversize.data(), oversize.size()), to);
    raw.send_to(boost::asio::buffer(largest.data(), 0), to);
    raw.send_to(boost::asio::buffer(largest.data(), largest.size()), to);

    // One socket, in order: once the last one is in, the first two were seen.
    ASSERT_TRUE(wait_until(a, [&] { return a_end.received.size() == 1; }));
    EXPECT_EQ(on_thread(a, [&] { return a_end.received[0].second; }), largest);
    EXPECT_EQ(on_thread(a, [&] { return a_end.received[0].first.port; }), raw.local_endpoint().port());
    const UdpStats s = a.stats();
    EXPECT_EQ(s.received_oversize, 1u);
    EXPECT_EQ(s.received_empty, 1u);
    EXPECT_EQ(s.datagrams_received, 1u);
    EXPECT_EQ(s.bytes_received, kMaxDatagramSize);
}

TEST(UdpTransport, SendQueueIsBoundedAndWaitsForBind) {
    TestEndpoint a_end;
    TestEndpoint b_end;
    UdpTransport a{a_end, {.max_queued_datagrams = 2}};
    UdpTransport b{b_end};
    const uint16_t b_port = bind_loopback(b);
    const Running ra{a};
    const Running rb{b};
    // Not bound yet: two wait, three find the queue full.
    on_thread(a, [&] {
        for (uint8_t i = 0; i < 5; ++i) a_end.send_datagram(loopback(b_port), datagram_of(10, i));
        return 0;
    });
    const UdpStats before = stats_when(a, [](const UdpStats& s) { return s.sends_queue_full == 3; });
    EXPECT_EQ(before.sends_queue_full, 3u);
    EXPECT_EQ(before.datagrams_sent, 0u);
    bind_loopback(a);
    ASSERT_TRUE(wait_until(b, [&] { return b_end.received.size() == 2; }));
    EXPECT_EQ(on_thread(b, [&] { return b_end.received[1].second; }), datagram_of(10, 1));
    EXPECT_EQ(stats_when(a, [](const UdpStats& s) { return s.datagrams_sent == 2; }).datagrams_sent, 2u);
}

TEST(UdpTransport, SendErrorsAreCountedNotFatal) {
    TestEndpoint a_end;
    TestEndpoint b_end;
    UdpTransport a{a_end, {.log = [](std::string_view) {}}};
    UdpTransport b{b_end};
    bind_loopback(a);
    const uint16_t b_port = bind_loopback(b);
    const Running ra{a};
    const Running rb{b};
    // Port 0 is no destination: the kernel refuses the send.
    a.post([&] {
        a_end.send_datagram(loopback(0), datagram_of(10, 7));
        a_end.send_datagram(loopback(b_port), datagram_of(10, 8));
    });
    ASSERT_TRUE(wait_until(b, [&] { return b_end.received.size() == 1; }));
    const UdpStats s = stats_when(a, [](const UdpStats& x) { return x.datagrams_sent == 1; });
    EXPECT_EQ(s.send_errors, 1u);
    EXPECT_EQ(s.datagrams_sent, 1u);
}

TEST(UdpTransport, AThrowingEndpointLosesOnlyThatDatagram) {
    TestEndpoint a_end;
    TestEndpoint b_end;
    b_end.throw_on = 0xee;
    UdpTransport a{a_end};
    UdpTransport b{b_end, {.log = [](std::string_view) {}}};
    bind_loopback(a);
    const uint16_t b_port = bind_loopback(b);
    const Running ra{a};
    const Running rb{b};
    a.post([&] {
        a_end.send_datagram(loopback(b_port), Bytes{0xee, 1});
        a_end.send_datagram(loopback(b_port), Bytes{0x01, 2});
    });
    ASSERT_TRUE(wait_until(b, [&] { return b_end.received.size() == 1; }));
    EXPECT_EQ(on_thread(b, [&] { return b_end.received[0].second; }), (Bytes{0x01, 2}));
    EXPECT_EQ(b.stats().datagrams_received, 2u);
}

TEST(UdpTransport, TimerFires) {
    TestEndpoint a_end;
    UdpTransport a{a_end};
    const Running ra{a};
    const Time deadline = on_thread(a, [&] {
        a_end.deadline = a.now() + std::chrono::milliseconds{20};
        return *a_end.deadline;
    });
    ASSERT_TRUE(wait_until(a, [&] { return !a_end.timer_fired.empty(); }));
    const auto fired = on_thread(a, [&] { return a_end.timer_fired; });
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_GE(fired[0], deadline);
    EXPECT_GE(a.now(), deadline);
}

TEST(UdpTransport, StopsFromAnotherThread) {
    TestEndpoint a_end;
    UdpTransport a{a_end};
    bind_loopback(a);
    std::promise<void> returned;
    auto run_returned = returned.get_future();
    std::thread runner{[&] {
        a.run();
        returned.set_value();
    }};
    std::thread stopper{[&] { a.stop(); }};
    stopper.join();
    const bool stopped = run_returned.wait_for(kWait) == std::future_status::ready;
    if (!stopped) std::terminate();  // the runner thread cannot be joined: do not hang the suite
    runner.join();
    EXPECT_TRUE(stopped);
    a.stop();  // idempotent
    bool ran = false;
    a.post([&] { ran = true; });  // dropped after stop
    a.run_for(10ms);
    EXPECT_FALSE(ran);
    EXPECT_FALSE(a.bind("127.0.0.1", 0));
}

TEST(UdpTransport, BindRefusesWhatItCannotServe) {
    TestEndpoint a_end;
    UdpTransport a{a_end};
    const auto v6 = a.bind("::1", 0);
    ASSERT_FALSE(v6);
    EXPECT_NE(v6.error().find("IPv4"), std::string::npos) << v6.error();
    ASSERT_TRUE(a.bind("127.0.0.1", 0));  // a failed bind may be tried again
    EXPECT_EQ(a.bind("127.0.0.1", 0).error(), "already bound");
}

}  // namespace
}  // namespace carousel::net
