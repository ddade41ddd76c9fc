// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// TcpTransport's datagrams: its UDP socket (net/udp_socket.hpp) and the endpoint calls around it.
#include "tcp_transport.hpp"

// As in udp_socket.cpp: Asio 1.74's scheduler, inlined here for the raw socket, trips g++ 12's
// -Wnull-dereference.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <gtest/gtest.h>

#include <carousel/testing/transport_thread.hpp>

// Every test talks to 127.0.0.1 only, and every wait below is bounded.
namespace carousel::net {
namespace {

using namespace std::chrono_literals;
using proto::Address;
using proto::kMaxDatagramSize;
using proto::PeerId;
using proto::Time;
using testing::on_thread;
using testing::TransportThread;
using testing::wait_until;

constexpr auto kWait = testing::kTransportWait;
constexpr Address kLoopback{{127, 0, 0, 1}, 0};

Address loopback(uint16_t port) { return {kLoopback.ip, port}; }

Bytes datagram_of(std::size_t size, uint8_t seed) {
    Bytes d(size, 0);
    for (std::size_t i = 0; i < size; ++i) d[i] = static_cast<uint8_t>(seed + i * 13);
    return d;
}

// A test endpoint: records the datagrams and frames it gets, echoes datagrams if asked, throws on
// a chosen first byte. Its fields are touched on the transport thread only (read them through
// on_thread()).
class TestEndpoint : public proto::Endpoint {
  public:
    using Endpoint::send;
    using Endpoint::send_datagram;

    void on_datagram(const Address& from, ByteView datagram, Time now) override {
        (void)now;
        if (throw_on && !datagram.empty() && datagram[0] == *throw_on) throw std::runtime_error("cannot digest this");
        received.emplace_back(from, Bytes{datagram});
        if (echo) send_datagram(from, Bytes{datagram});
    }
    void on_frame(PeerId from, ByteView frame, Time now) override {
        (void)now;
        frames.emplace_back(from, Bytes{frame});
    }

    bool echo{false};
    std::optional<uint8_t> throw_on;
    std::vector<std::pair<Address, Bytes>> received;
    std::vector<std::pair<PeerId, Bytes>> frames;
};

// The stats once `pred` holds of them (or after kWait): a datagram's counters move as the transport
// thread reaches its completion, which may come after the endpoint has already seen a reply.
template <typename Pred>
UdpStats stats_when(const TcpTransport& t, Pred pred) {
    const auto end = std::chrono::steady_clock::now() + kWait;
    while (!pred(t.udp_stats()) && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(2ms);
    return t.udp_stats();
}

uint16_t bind_loopback(TcpTransport& t) {
    const auto port = t.bind_udp("127.0.0.1", 0);
    if (!port) throw std::runtime_error("bind failed: " + port.error());
    return *port;
}

TEST(TcpTransportDatagrams, ExchangesDatagramsBothWays) {
    TestEndpoint a_end;
    TestEndpoint b_end;
    b_end.echo = true;
    TcpTransport a{a_end};
    TcpTransport b{b_end};
    const uint16_t a_port = bind_loopback(a);
    const uint16_t b_port = bind_loopback(b);
    ASSERT_NE(a_port, 0);
    ASSERT_NE(a_port, b_port);
    const TransportThread ra{a};
    const TransportThread rb{b};

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

// The point of one driver: one endpoint gets the frames and the datagrams of one transport.
TEST(TcpTransportDatagrams, OneEndpointGetsFramesAndDatagrams) {
    TestEndpoint a_end;
    TestEndpoint b_end;
    a_end.echo = true;
    TcpTransport a{a_end, {.log = [](std::string_view) {}}};
    TcpTransport b{b_end, {.log = [](std::string_view) {}}};
    const uint16_t a_udp = bind_loopback(a);
    const auto a_tcp = a.listen("127.0.0.1", 0);
    ASSERT_TRUE(a_tcp) << a_tcp.error();
    const uint16_t b_udp = bind_loopback(b);
    const TransportThread ra{a};
    const TransportThread rb{b};
    const auto peer = b.connect("127.0.0.1", *a_tcp);
    ASSERT_TRUE(peer) << peer.error();
    b.post([&] {
        b_end.send(*peer, Bytes{0x42, 1});
        b_end.send_datagram(loopback(a_udp), Bytes{0x43, 2});
    });
    ASSERT_TRUE(wait_until(b, [&] { return b_end.received.size() == 1; }));
    EXPECT_EQ(on_thread(b, [&] { return b_end.received[0]; }), std::make_pair(loopback(a_udp), Bytes{0x43, 2}));
    ASSERT_TRUE(wait_until(a, [&] { return a_end.frames.size() == 1; }));
    EXPECT_EQ(on_thread(a, [&] { return a_end.frames[0].second; }), (Bytes{0x42, 1}));
    EXPECT_EQ(on_thread(a, [&] { return a_end.received[0]; }), std::make_pair(loopback(b_udp), Bytes{0x43, 2}));
    EXPECT_EQ(a.stats().frames_received, 1u);
    EXPECT_EQ(a.udp_stats().datagrams_received, 1u);
}

TEST(TcpTransportDatagrams, SendsOutOfBoundsAreDroppedAndCounted) {
    TestEndpoint a_end;
    TestEndpoint b_end;
    std::vector<std::string> lines;  // the transport thread's only until it stops
    TcpTransport a{a_end, {.log = [&lines](std::string_view l) { lines.emplace_back(l); }}};
    TcpTransport b{b_end};
    bind_loopback(a);
    const uint16_t b_port = bind_loopback(b);
    TransportThread ra{a};
    const TransportThread rb{b};
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
TEST(TcpTransportDatagrams, ReceivedOversizeAndEmptyDatagramsAreDroppedAndCounted) {
    TestEndpoint a_end;
    TcpTransport a{a_end};
    const uint16_t a_port = bind_loopback(a);
    const TransportThread ra{a};

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
    const UdpStats s = a.udp_stats();
    EXPECT_EQ(s.received_oversize, 1u);
    EXPECT_EQ(s.received_empty, 1u);
    EXPECT_EQ(s.datagrams_received, 1u);
    EXPECT_EQ(s.bytes_received, kMaxDatagramSize);
}

TEST(TcpTransportDatagrams, SendQueueIsBoundedAndWaitsForBind) {
    TestEndpoint a_end;
    TestEndpoint b_end;
    TcpTransport a{a_end, {.max_queued_datagrams = 2}};
    TcpTransport b{b_end};
    const uint16_t b_port = bind_loopback(b);
    const TransportThread ra{a};
    const TransportThread rb{b};
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

TEST(TcpTransportDatagrams, SendErrorsAreCountedNotFatal) {
    TestEndpoint a_end;
    TestEndpoint b_end;
    TcpTransport a{a_end, {.log = [](std::string_view) {}}};
    TcpTransport b{b_end};
    bind_loopback(a);
    const uint16_t b_port = bind_loopback(b);
    const TransportThread ra{a};
    const TransportThread rb{b};
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

TEST(TcpTransportDatagrams, AThrowingEndpointLosesOnlyThatDatagram) {
    TestEndpoint a_end;
    TestEndpoint b_end;
    b_end.throw_on = 0xee;
    std::vector<std::string> lines;  // b's transport thread's only until it stops
    TcpTransport a{a_end};
    TcpTransport b{b_end, {.log = [&lines](std::string_view l) { lines.emplace_back(l); }}};
    bind_loopback(a);
    const uint16_t b_port = bind_loopback(b);
    const TransportThread ra{a};
    TransportThread rb{b};
    a.post([&] {
        a_end.send_datagram(loopback(b_port), Bytes{0xee, 1});
        a_end.send_datagram(loopback(b_port), Bytes{0x01, 2});
    });
    ASSERT_TRUE(wait_until(b, [&] { return b_end.received.size() == 1; }));
    EXPECT_EQ(on_thread(b, [&] { return b_end.received[0].second; }), (Bytes{0x01, 2}));
    EXPECT_EQ(b.udp_stats().datagrams_received, 2u);
    rb.stop();
    ASSERT_EQ(lines.size(), 2u);  // bound, and the throw
    EXPECT_NE(lines[1].find("endpoint threw from on_datagram: cannot digest this"), std::string::npos) << lines[1];
}

TEST(TcpTransportDatagrams, StopsFromAnotherThread) {
    TestEndpoint a_end;
    TcpTransport a{a_end};
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
    EXPECT_FALSE(a.bind_udp("127.0.0.1", 0));
}

TEST(TcpTransportDatagrams, BindRefusesWhatItCannotServe) {
    TestEndpoint a_end;
    TcpTransport a{a_end};
    const auto v6 = a.bind_udp("::1", 0);
    ASSERT_FALSE(v6);
    EXPECT_NE(v6.error().find("IPv4"), std::string::npos) << v6.error();
    ASSERT_TRUE(a.bind_udp("127.0.0.1", 0));  // a failed bind may be tried again
    EXPECT_EQ(a.bind_udp("127.0.0.1", 0).error(), "already bound");
}

}  // namespace
}  // namespace carousel::net
