// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "tcp_transport.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/testing/transport_thread.hpp>

#include "redialer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

// Every test talks to 127.0.0.1 only, and every wait below is bounded.
namespace carousel::net {
namespace {

using namespace std::chrono_literals;
using proto::Endpoint;
using proto::PeerId;
using proto::Time;
using Runner = carousel::testing::TransportThread;
using carousel::testing::on_thread;
using carousel::testing::wait_until;

constexpr auto kWait = 5s;
constexpr std::size_t kMiB = std::size_t{1} << 20;

Bytes frame_of(uint8_t type, std::size_t size, uint64_t seed = 1) {
    Bytes f(size, 0);
    uint64_t x = seed;
    for (auto& b : f) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        b = static_cast<uint8_t>(x >> 56);
    }
    f[0] = type;
    return f;
}

Bytes length_prefix(uint32_t n) {
    return {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
            static_cast<uint8_t>(n)};
}

Bytes on_wire(ByteView frame) { return length_prefix(static_cast<uint32_t>(frame.size())) + Bytes{frame}; }

// Collects the transport's log lines (they come from its thread).
class LogSink {
  public:
    std::function<void(std::string_view)> callback() {
        return [this](std::string_view line) {
            const std::scoped_lock lock{mutex_};
            lines_.emplace_back(line);
        };
    }
    [[nodiscard]] bool contains(std::string_view text) const {
        const std::scoped_lock lock{mutex_};
        for (const auto& l : lines_) {
            if (l.find(text) != std::string::npos) return true;
        }
        return false;
    }
    [[nodiscard]] std::string all() const {
        const std::scoped_lock lock{mutex_};
        std::string out;
        for (const auto& l : lines_) out += l + "\n";
        return out;
    }

  private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

// A test endpoint: echoes, rejects or throws on chosen message types, keeps a timer. Its fields are
// touched on the transport thread only (read them through on_thread(), or after the thread is gone).
class TestEndpoint : public Endpoint {
  public:
    using Endpoint::dial;
    using Endpoint::disconnect;
    using Endpoint::send;

    void on_dialed(const proto::Address& to, PeerId peer, Time now) override {
        calls += 'D';
        dialed.emplace_back(to, peer);
        (void)now;
    }
    void on_dial_failed(const proto::Address& to, Time now) override {
        calls += 'F';
        dial_failed.push_back(to);
        (void)now;
    }
    void on_connect(PeerId peer, Time now) override {
        calls += 'c';
        connected.push_back(peer);
        for (const auto& f : greeting) send(peer, f);
        (void)now;
    }
    void on_disconnect(PeerId peer, Time now) override {
        calls += 'd';
        disconnected.push_back(peer);
        (void)now;
    }
    void on_frame(PeerId from, ByteView frame, Time now) override {
        (void)now;
        if (throw_on_type && frame[0] == *throw_on_type) throw std::runtime_error("cannot digest this");
        if (frame[0] > max_known_type) {
            disconnect(from, "unknown message type " + std::to_string(frame[0]));
            return;
        }
        if (frame[0] == kFloodType) {
            for (std::size_t i = 0; i < flood_count; ++i) send(from, frame_of(2, flood_size, i));
            return;
        }
        frames.emplace_back(from, Bytes{frame});
        if (echo) send(from, Bytes{frame});
    }
    std::optional<Time> next_deadline() const override { return deadline; }
    void on_timer(Time now) override {
        timer_fired.push_back(now);
        deadline.reset();
    }

    static constexpr uint8_t kFloodType = 0x10;

    bool echo{false};
    uint8_t max_known_type{0x7f};
    std::optional<uint8_t> throw_on_type;
    std::size_t flood_count{0};
    std::size_t flood_size{0};
    std::vector<Bytes> greeting;  // sent to every peer on connect
    std::optional<Time> deadline;

    std::string calls;  // 'D' dialed, 'F' dial failed, 'c' connect, 'd' disconnect, in order
    std::vector<std::pair<proto::Address, PeerId>> dialed;
    std::vector<proto::Address> dial_failed;
    std::vector<PeerId> connected;
    std::vector<PeerId> disconnected;
    std::vector<std::pair<PeerId, Bytes>> frames;
    std::vector<Time> timer_fired;
};

// A plain blocking socket to 127.0.0.1, for sending what no well-behaved peer would.
class RawClient {
  public:
    explicit RawClient(uint16_t port, int receive_buffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("connect failed");
        }
    }
    ~RawClient() { ::close(fd_); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool write(ByteView data) {
        while (!data.empty()) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // Exactly n bytes, or nothing if the connection ends or `timeout` passes first.
    std::optional<Bytes> read(std::size_t n, std::chrono::milliseconds timeout = kWait) {
        Bytes out(n, 0);
        std::size_t have = 0;
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (have < n) {
            if (!wait_readable(end)) return std::nullopt;
            const ssize_t r = ::recv(fd_, out.data() + have, n - have, 0);
            if (r <= 0) return std::nullopt;
            have += static_cast<std::size_t>(r);
        }
        return out;
    }

    std::optional<Bytes> read_frame(std::chrono::milliseconds timeout = kWait) {
        const auto prefix = read(4, timeout);
        if (!prefix) return std::nullopt;
        const uint32_t n = (uint32_t{(*prefix)[0]} << 24) | (uint32_t{(*prefix)[1]} << 16) |
                           (uint32_t{(*prefix)[2]} << 8) | uint32_t{(*prefix)[3]};
        return read(n, timeout);
    }

    // Whether the other side closes (EOF or reset) within `timeout`; discards what arrives meanwhile.
    bool closed_within(std::chrono::milliseconds timeout = kWait) {
        const auto end = std::chrono::steady_clock::now() + timeout;
        std::array<uint8_t, 4096> sink{};
        while (wait_readable(end)) {
            const ssize_t r = ::recv(fd_, sink.data(), sink.size(), 0);
            if (r == 0 || (r < 0 && errno == ECONNRESET)) return true;
            if (r < 0) return false;
        }
        return false;
    }

  private:
    bool wait_readable(std::chrono::steady_clock::time_point end) const {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
        return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
    }

    int fd_{-1};
};

// A listening echo server on 127.0.0.1 and its thread.
struct EchoServer {
    explicit EchoServer(TcpOptions options = {}, uint16_t on_port = 0)
        : transport{endpoint, with_log(std::move(options))} {
        endpoint.echo = true;
        const auto bound = transport.listen("127.0.0.1", on_port);
        if (!bound) throw std::runtime_error(bound.error());
        port = *bound;
        runner = std::make_unique<Runner>(transport);
    }
    TcpOptions with_log(TcpOptions options) {
        options.log = log.callback();
        return options;
    }

    LogSink log;
    TestEndpoint endpoint;
    TcpTransport transport;
    uint16_t port{0};
    std::unique_ptr<Runner> runner;  // goes first
};

// --- two transports -------------------------------------------------------------------------------

TEST(TcpTransport, ExchangesFramesBetweenTwoTransports) {
    EchoServer server;
    LogSink client_log;
    TestEndpoint client;
    for (uint8_t i = 1; i <= 5; ++i) client.greeting.push_back(frame_of(i, std::size_t{1} << (3 * i), i));
    TcpTransport client_transport{client, {.log = client_log.callback()}};
    Runner client_runner{client_transport};

    const auto peer = client_transport.connect("127.0.0.1", server.port);
    ASSERT_TRUE(peer) << peer.error();
    ASSERT_TRUE(wait_until(client_transport, [&] { return client.frames.size() == 5; }));
    const auto frames = on_thread(client_transport, [&] { return client.frames; });
    for (std::size_t i = 0; i < frames.size(); ++i) {
        EXPECT_EQ(frames[i].first, *peer);
        EXPECT_EQ(frames[i].second, client.greeting[i]) << "frame " << i;
    }
    EXPECT_EQ(on_thread(server.transport, [&] { return server.endpoint.connected.size(); }), 1u);

    // The client leaves; the server hears of it.
    client_runner.stop();
    EXPECT_EQ(client.disconnected, std::vector<PeerId>{*peer});
    EXPECT_TRUE(wait_until(server.transport, [&] { return server.endpoint.disconnected.size() == 1; }));
    EXPECT_TRUE(server.log.contains("closed by peer")) << server.log.all();
    const TcpStats stats = client_transport.stats();
    EXPECT_EQ(stats.frames_sent, 5u);
    EXPECT_EQ(stats.frames_received, 5u);
    EXPECT_EQ(stats.bytes_received, stats.bytes_sent);
}

TEST(TcpTransport, CarriesFramesOfSeveralMegabytes) {
    EchoServer server;
    TestEndpoint client;
    client.greeting = {frame_of(1, 3 * kMiB + 7, 11), frame_of(2, 8 * kMiB, 12), frame_of(3, proto::kMaxFrameSize, 13)};
    LogSink log;
    TcpTransport client_transport{client, {.log = log.callback()}};
    Runner client_runner{client_transport};
    ASSERT_TRUE(client_transport.connect("127.0.0.1", server.port));
    ASSERT_TRUE(wait_until(client_transport, [&] { return client.frames.size() == 3; }));
    const auto frames = on_thread(client_transport, [&] { return client.frames; });
    for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(frames[i].second == client.greeting[i]) << "frame " << i;
    EXPECT_EQ(client_transport.stats().bytes_received, (3 * kMiB + 7) + (8 * kMiB) + proto::kMaxFrameSize);
}

TEST(TcpTransport, ConnectAsyncReportsThePeerAfterOnConnect) {
    EchoServer server;
    TestEndpoint client;
    TcpTransport client_transport{client};
    Runner client_runner{client_transport};
    std::promise<std::pair<tl::expected<PeerId, std::string>, std::size_t>> result;
    client_transport.connect_async("127.0.0.1", server.port, [&](const tl::expected<PeerId, std::string>& peer) {
        result.set_value({peer, client.connected.size()});
    });
    auto future = result.get_future();
    ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
    const auto got = future.get();
    const auto& peer = got.first;
    const std::size_t connected_before = got.second;
    ASSERT_TRUE(peer) << peer.error();
    EXPECT_EQ(connected_before, 1u);
    on_thread(client_transport, [&] {
        client.send(*peer, frame_of(4, 100));
        return true;
    });
    EXPECT_TRUE(wait_until(client_transport, [&] { return client.frames.size() == 1; }));
}

TEST(TcpTransport, ConnectToAClosedPortFailsWithAReason) {
    uint16_t closed_port = 0;
    {
        TestEndpoint e;
        TcpTransport t{e, {.log = [](std::string_view) {}}};
        closed_port = *t.listen("127.0.0.1", 0);
    }  // listener gone
    TestEndpoint client;
    TcpTransport client_transport{client};
    const auto sync = client_transport.connect("127.0.0.1", closed_port);
    ASSERT_FALSE(sync);
    EXPECT_NE(sync.error().find("cannot connect to 127.0.0.1:"), std::string::npos) << sync.error();

    Runner runner{client_transport};
    std::promise<tl::expected<PeerId, std::string>> result;
    client_transport.connect_async("127.0.0.1", closed_port,
                                   [&](const tl::expected<PeerId, std::string>& peer) { result.set_value(peer); });
    auto future = result.get_future();
    ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
    const auto async = future.get();
    ASSERT_FALSE(async);
    EXPECT_NE(async.error().find("cannot connect"), std::string::npos) << async.error();
}

// --- dialing --------------------------------------------------------------------------------------

proto::Address loopback(uint16_t port) { return {.ip = {127, 0, 0, 1}, .port = port}; }

// A port nothing listens on (it had a listener a moment ago).
uint16_t closed_port() {
    TestEndpoint e;
    TcpTransport t{e, {.log = [](std::string_view) {}}};
    return *t.listen("127.0.0.1", 0);
}

TEST(TcpTransport, DialReachesAListeningTransport) {
    EchoServer server;
    TestEndpoint client;
    client.greeting = {frame_of(3, 1000, 7)};
    LogSink log;
    TcpTransport client_transport{client, {.log = log.callback()}};
    Runner client_runner{client_transport};
    client_transport.post([&] { client.dial(loopback(server.port)); });

    // on_dialed, then on_connect (whose greeting the server echoes back).
    ASSERT_TRUE(wait_until(client_transport, [&] { return client.frames.size() == 1; })) << log.all();
    const auto [calls, dialed, frames] = on_thread(client_transport, [&] {
        return std::tuple{client.calls, client.dialed, client.frames};
    });
    EXPECT_EQ(calls, "Dc");
    ASSERT_EQ(dialed.size(), 1u);
    EXPECT_EQ(dialed[0].first, loopback(server.port));
    EXPECT_EQ(frames[0], (std::pair{dialed[0].second, client.greeting[0]}));
    EXPECT_TRUE(wait_until(server.transport, [&] { return server.endpoint.calls == "c"; }));

    // A second dial to the same address is a second connection: TCP names connections.
    client_transport.post([&] { client.dial(loopback(server.port)); });
    ASSERT_TRUE(wait_until(client_transport, [&] { return client.calls == "DcDc"; })) << log.all();
    EXPECT_NE(on_thread(client_transport, [&] { return client.dialed[1].second; }), dialed[0].second);
}

TEST(TcpTransport, DialToAClosedPortFails) {
    const uint16_t port = closed_port();
    TestEndpoint client;
    LogSink log;
    TcpTransport client_transport{client, {.log = log.callback()}};
    Runner client_runner{client_transport};
    client_transport.post([&] { client.dial(loopback(port)); });
    ASSERT_TRUE(wait_until(client_transport, [&] { return !client.dial_failed.empty(); }));
    EXPECT_EQ(on_thread(client_transport, [&] { return client.calls; }), "F");
    EXPECT_EQ(on_thread(client_transport, [&] { return client.dial_failed; }), std::vector{loopback(port)});
    EXPECT_TRUE(log.contains("dial to 127.0.0.1:" + std::to_string(port) + " failed")) << log.all();
}

// A listening socket on 127.0.0.1 with a backlog of 0 that never accepts: once one connection
// waits in its queue, the kernel drops further SYNs and those connects hang.
class FullListener {
  public:
    FullListener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
        socklen_t size = sizeof addr;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(fd_, 0) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
            throw std::runtime_error("cannot listen");
        }
        port = ntohs(addr.sin_port);
        queued_ = std::make_unique<RawClient>(port);
    }
    ~FullListener() {
        queued_.reset();
        ::close(fd_);
    }
    FullListener(const FullListener&) = delete;
    FullListener& operator=(const FullListener&) = delete;

    uint16_t port{0};

  private:
    int fd_{-1};
    std::unique_ptr<RawClient> queued_;
};

TEST(TcpTransport, DialThatGetsNoAnswerTimesOut) {
    FullListener listener;
    TestEndpoint client;
    LogSink log;
    TcpTransport client_transport{client, {.connect_timeout = 200ms, .log = log.callback()}};
    Runner client_runner{client_transport};
    const auto start = std::chrono::steady_clock::now();
    client_transport.post([&] { client.dial(loopback(listener.port)); });
    ASSERT_TRUE(wait_until(client_transport, [&] { return !client.dial_failed.empty(); })) << log.all();
    EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
    EXPECT_EQ(on_thread(client_transport, [&] { return client.calls; }), "F");
    EXPECT_TRUE(log.contains("timed out after 200 ms")) << log.all();
}

TEST(TcpTransport, DialInFlightWhenTheTransportStopsFails) {
    FullListener listener;
    TestEndpoint client;
    TcpTransport client_transport{client, {.connect_timeout = 60s, .log = [](std::string_view) {}}};
    Runner client_runner{client_transport};
    client_transport.post([&] { client.dial(loopback(listener.port)); });
    // The dial is under way once the posted call has run and drained it.
    ASSERT_TRUE(wait_until(client_transport, [] { return true; }));
    client_runner.stop();
    EXPECT_EQ(client.calls, "F");
    EXPECT_EQ(client.dial_failed, std::vector{loopback(listener.port)});
}

// --- hostile peers --------------------------------------------------------------------------------

TEST(TcpTransport, BadLengthPrefixClosesOnlyThatConnection) {
    EchoServer server;
    RawClient good{server.port};
    for (const uint32_t bad : {uint32_t{0xffffffff}, uint32_t{proto::kMaxFrameSize + 1}, uint32_t{0}}) {
        RawClient evil{server.port};
        ASSERT_TRUE(evil.write(length_prefix(bad)));
        EXPECT_TRUE(evil.closed_within()) << bad;
        EXPECT_TRUE(server.log.contains("frame length " + std::to_string(bad) + " outside 1..")) << server.log.all();
        // The well-behaved connection, opened before, still works.
        const Bytes f = frame_of(1, 1000, bad);
        ASSERT_TRUE(good.write(on_wire(f)));
        EXPECT_EQ(good.read_frame(), f);
    }
    // And so does a new one, through a transport.
    TestEndpoint client;
    client.greeting = {frame_of(3, 64)};
    TcpTransport client_transport{client};
    Runner client_runner{client_transport};
    ASSERT_TRUE(client_transport.connect("127.0.0.1", server.port));
    EXPECT_TRUE(wait_until(client_transport, [&] { return client.frames.size() == 1; }));
    EXPECT_TRUE(wait_until(server.transport, [&] { return server.endpoint.disconnected.size() == 3; }));
}

TEST(TcpTransport, PeerSendingGarbageIsDropped) {
    EchoServer server;
    server.endpoint.max_known_type = 8;
    RawClient good{server.port};
    {
        // An HTTP request: its first four bytes read as a length of about 1.2 GB.
        RawClient http{server.port};
        ASSERT_TRUE(http.write(Bytes{reinterpret_cast<const uint8_t*>("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 27}));
        EXPECT_TRUE(http.closed_within());
        EXPECT_TRUE(server.log.contains("frame length 1195725856 outside")) << server.log.all();
    }
    {
        // A well-framed message the endpoint does not know: the endpoint drops the peer.
        RawClient unknown{server.port};
        ASSERT_TRUE(unknown.write(on_wire(frame_of(0xf3, 50))));
        EXPECT_TRUE(unknown.closed_within());
        EXPECT_TRUE(server.log.contains("dropped by the endpoint: unknown message type 243")) << server.log.all();
    }
    {
        // A frame cut short by the peer closing.
        auto truncated = std::make_unique<RawClient>(server.port);
        ASSERT_TRUE(truncated->write(length_prefix(100) + frame_of(1, 10)));
        truncated.reset();
        EXPECT_TRUE(wait_until(server.transport, [&] { return server.endpoint.disconnected.size() == 3; }));
        EXPECT_TRUE(server.log.contains("in the middle of a frame")) << server.log.all();
    }
    const Bytes f = frame_of(2, 4000);
    ASSERT_TRUE(good.write(on_wire(f)));
    EXPECT_EQ(good.read_frame(), f);
}

TEST(TcpTransport, EndpointExceptionDropsOnlyThatPeer) {
    EchoServer server;
    server.endpoint.throw_on_type = 0x66;
    RawClient good{server.port};
    RawClient bad{server.port};
    ASSERT_TRUE(bad.write(on_wire(frame_of(0x66, 20))));
    EXPECT_TRUE(bad.closed_within());
    EXPECT_TRUE(server.log.contains("endpoint threw from on_frame: cannot digest this")) << server.log.all();
    const Bytes f = frame_of(1, 20);
    ASSERT_TRUE(good.write(on_wire(f)));
    EXPECT_EQ(good.read_frame(), f);
}

// --- backpressure ---------------------------------------------------------------------------------

TEST(TcpTransport, QueueOverTheCapDropsThePeer) {
    TcpOptions options;
    options.max_queued_bytes = 2 * kMiB;
    EchoServer server{options};
    server.endpoint.flood_count = 3;
    server.endpoint.flood_size = kMiB;
    RawClient slow{server.port};
    RawClient good{server.port};
    ASSERT_TRUE(slow.write(on_wire(frame_of(TestEndpoint::kFloodType, 8))));
    EXPECT_TRUE(slow.closed_within());
    EXPECT_TRUE(server.log.contains("write queue over 2097152 bytes")) << server.log.all();
    const Bytes f = frame_of(1, 20);
    ASSERT_TRUE(good.write(on_wire(f)));
    EXPECT_EQ(good.read_frame(), f);
    EXPECT_GE(server.transport.stats().frames_dropped, 3u);
}

TEST(TcpTransport, SendThatStallsTimesOut) {
    TcpOptions options;
    options.send_timeout = 200ms;
    EchoServer server{options};
    server.endpoint.flood_count = 4;
    server.endpoint.flood_size = 8 * kMiB;
    RawClient stalled{server.port, 4096};  // never reads
    RawClient good{server.port};
    ASSERT_TRUE(stalled.write(on_wire(frame_of(TestEndpoint::kFloodType, 8))));
    EXPECT_TRUE(wait_until(server.transport, [&] { return server.endpoint.disconnected.size() == 1; }));
    EXPECT_TRUE(server.log.contains("send timed out after 200 ms")) << server.log.all();
    const Bytes f = frame_of(1, 20);
    ASSERT_TRUE(good.write(on_wire(f)));
    EXPECT_EQ(good.read_frame(), f);
}

// --- bounds on what hostile peers hold ------------------------------------------------------------

TEST(TcpTransport, IdleAcceptedConnectionIsClosed) {
    TcpOptions options;
    options.idle_timeout = 300ms;
    EchoServer server{options};
    RawClient idle{server.port};
    RawClient busy{server.port};
    // The busy one sends a frame more often than the timeout; the idle one sends nothing.
    for (int i = 0; i < 8; ++i) {
        const Bytes f = frame_of(1, 30, static_cast<uint64_t>(i));
        ASSERT_TRUE(busy.write(on_wire(f)));
        ASSERT_EQ(busy.read_frame(), f) << i;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(idle.closed_within(2s));
    EXPECT_TRUE(server.log.contains("idle: no frame for")) << server.log.all();
    const Bytes f = frame_of(2, 30);
    ASSERT_TRUE(busy.write(on_wire(f)));
    EXPECT_EQ(busy.read_frame(), f);
    EXPECT_EQ(server.transport.stats().read_deadlines_missed, 1U);
}

TEST(TcpTransport, FrameSentTooSlowlyMissesItsDeadline) {
    TcpOptions options;
    options.frame_timeout = 300ms;
    options.min_frame_rate = 1000;  // after 300 ms, a byte per ms
    options.idle_timeout = 0ms;
    EchoServer server{options};
    RawClient loris{server.port};    // one byte of the frame at a time
    RawClient prefix{server.port};   // half a length prefix
    RawClient patient{server.port};  // never starts a frame: no idle timeout here
    ASSERT_TRUE(loris.write(length_prefix(100)));
    ASSERT_TRUE(prefix.write(length_prefix(100).substr(0, 2)));
    bool closed = false;
    for (int i = 0; i < 40 && !closed; ++i) {
        loris.write(Bytes{1, static_cast<uint8_t>(i)});
        closed = loris.closed_within(50ms);
    }
    EXPECT_TRUE(closed);
    EXPECT_TRUE(prefix.closed_within(2s));
    EXPECT_TRUE(server.log.contains("read deadline: a frame of 100 bytes too slow")) << server.log.all();
    EXPECT_TRUE(server.log.contains("read deadline: a frame of unknown length stalled")) << server.log.all();
    EXPECT_FALSE(patient.closed_within(100ms));
    // A frame sent at once, however large, is on time.
    const Bytes f = frame_of(1, 3 * kMiB);
    ASSERT_TRUE(patient.write(on_wire(f)));
    EXPECT_EQ(patient.read_frame(), f);
}

TEST(TcpTransport, ANewConnectionAtTheCapEvictsTheQuietest) {
    TcpOptions options;
    options.max_inbound = 4;
    EchoServer server{options};
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<RawClient>(server.port));
    RawClient busy{server.port};
    ASSERT_TRUE(wait_until(server.transport, [&] { return server.endpoint.connected.size() == 4; }));
    const Bytes f = frame_of(1, 40);
    ASSERT_TRUE(busy.write(on_wire(f)));
    ASSERT_EQ(busy.read_frame(), f);
    // Two more: each evicts the idle connection that opened first.
    RawClient fresh1{server.port};
    EXPECT_TRUE(idle[0]->closed_within());
    RawClient fresh2{server.port};
    EXPECT_TRUE(idle[1]->closed_within());
    EXPECT_FALSE(idle[2]->closed_within(100ms));
    EXPECT_TRUE(server.log.contains("evicted for a new connection at the cap of 4")) << server.log.all();
    for (RawClient* c : {&busy, &fresh1, &fresh2}) {
        ASSERT_TRUE(c->write(on_wire(f)));
        EXPECT_EQ(c->read_frame(), f);
    }
    const TcpStats st = server.transport.stats();
    EXPECT_EQ(st.connections_evicted, 2U);
    EXPECT_EQ(st.connections_opened - st.connections_closed, 4U);
}

TEST(TcpTransport, PartialFramesOverTheBudgetCloseTheLargest) {
    TcpOptions options;
    options.max_partial_bytes = 2 * kMiB;
    EchoServer server{options};
    RawClient big{server.port};
    RawClient good{server.port};
    // 1.5 MiB of a 16 MiB frame: its buffer has doubled to 2 MiB, the whole budget.
    ASSERT_TRUE(big.write(length_prefix(16 * kMiB) + frame_of(1, 3 * kMiB / 2)));
    std::this_thread::sleep_for(100ms);
    // A small frame must still get in: the largest partial frame goes instead.
    const Bytes f = frame_of(1, 100);
    ASSERT_TRUE(good.write(on_wire(f)));
    EXPECT_EQ(good.read_frame(), f);
    EXPECT_TRUE(big.closed_within());
    EXPECT_TRUE(server.log.contains("partly received frames over the budget of 2097152 bytes")) << server.log.all();
    // One frame larger than the whole budget can never be received: its sender goes.
    RawClient huge{server.port};
    huge.write(length_prefix(4 * kMiB) + frame_of(1, 4 * kMiB));
    EXPECT_TRUE(huge.closed_within());
    EXPECT_EQ(server.transport.stats().partial_budget_closes, 2U);
    ASSERT_TRUE(good.write(on_wire(f)));
    EXPECT_EQ(good.read_frame(), f);
}

// --- timers, post, shutdown -----------------------------------------------------------------------

TEST(TcpTransport, TimerFiresAtTheDeadlineOnTheTransportClock) {
    TestEndpoint e;
    TcpTransport t{e};
    Runner runner{t};
    const Time armed_at = on_thread(t, [&] {
        e.deadline = t.now() + 50ms;  // then moved earlier: only the earlier one fires
        return t.now();
    });
    on_thread(t, [&] {
        e.deadline = armed_at + 20ms;
        return true;
    });
    ASSERT_TRUE(wait_until(t, [&] { return !e.timer_fired.empty(); }));
    std::this_thread::sleep_for(80ms);
    const auto fired = on_thread(t, [&] { return e.timer_fired; });
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_GE(fired[0], armed_at + 20ms);
}

TEST(TcpTransport, PostRunsOnTheTransportThreadAndDrains) {
    EchoServer server;
    TestEndpoint client;
    TcpTransport client_transport{client};
    Runner client_runner{client_transport};
    const auto peer = client_transport.connect("127.0.0.1", server.port);
    ASSERT_TRUE(peer);
    ASSERT_TRUE(wait_until(client_transport, [&] { return client.connected.size() == 1; }));
    std::atomic<bool> on_transport_thread{false};
    client_transport.post([&] {
        on_transport_thread = std::this_thread::get_id() == client_runner.id();
        client.send(*peer, frame_of(5, 33));
    });
    EXPECT_TRUE(wait_until(client_transport, [&] { return client.frames.size() == 1; }));
    EXPECT_TRUE(on_transport_thread);
}

TEST(TcpTransport, StopClosesEveryConnectionCleanly) {
    auto server = std::make_unique<EchoServer>();
    TestEndpoint a, b;
    TcpTransport ta{a}, tb{b};
    Runner ra{ta}, rb{tb};
    ASSERT_TRUE(ta.connect("127.0.0.1", server->port));
    ASSERT_TRUE(tb.connect("127.0.0.1", server->port));
    ASSERT_TRUE(wait_until(server->transport, [&] { return server->endpoint.connected.size() == 2; }));

    server->runner->stop();  // returns only once run() has returned
    EXPECT_EQ(server->endpoint.disconnected.size(), 2u);
    const TcpStats stats = server->transport.stats();
    EXPECT_EQ(stats.connections_opened, 2u);
    EXPECT_EQ(stats.connections_closed, 2u);
    EXPECT_TRUE(server->log.contains("transport stopped")) << server->log.all();
    EXPECT_TRUE(wait_until(ta, [&] { return a.disconnected.size() == 1; }));
    EXPECT_TRUE(wait_until(tb, [&] { return b.disconnected.size() == 1; }));
    // A stopped transport refuses new work, and nothing is accepted any more.
    const auto listen_again = server->transport.listen("127.0.0.1", 0);
    ASSERT_FALSE(listen_again);
    EXPECT_EQ(listen_again.error(), "transport stopped");
    const auto port = server->port;
    server.reset();
    EXPECT_FALSE(ta.connect("127.0.0.1", port));
}

TEST(TcpTransport, DestroysCleanlyWithoutEverRunning) {
    TestEndpoint e;
    LogSink log;
    {
        TcpTransport t{e, {.log = log.callback()}};
        ASSERT_TRUE(t.listen("127.0.0.1", 0));
        ASSERT_TRUE(t.connect("127.0.0.1", *t.listen("127.0.0.1", 0)));
    }
    // The connection was adopted and closed during destruction, and the endpoint heard both.
    EXPECT_GE(e.connected.size(), 1u);
    EXPECT_EQ(e.connected.size(), e.disconnected.size());
}

// --- Redialer ---------------------------------------------------------------------------------------

// A server that goes away is dialled again, with back-off, until it is back on its port; the judge
// hears of each close with its reason, and a peer it gives up is not dialled again.
TEST(Redialer, DialsAPeerAgainUntilItIsBackOnItsPort) {
    auto server = std::make_unique<EchoServer>();
    const uint16_t port = server->port;
    TestEndpoint client;
    std::unique_ptr<Redialer> dialer;
    TcpOptions options;
    options.log = [](std::string_view) {};
    options.on_close = [&dialer](PeerId peer, const std::string& reason, bool violation) {
        dialer->on_close(peer, reason, violation);
    };
    TcpTransport transport{client, options};
    std::vector<std::pair<PeerId, std::optional<PeerId>>> connects;  // transport thread
    std::vector<std::string> closes;
    bool give_up = false;
    Redialer::Target target;
    target.host = "127.0.0.1";
    target.port = port;
    dialer = std::make_unique<Redialer>(
        transport, std::vector<Redialer::Target>{target},
        [&](const Redialer::Target&, PeerId peer, std::optional<PeerId> previous) {
            connects.emplace_back(peer, previous);
        },
        [&](const Redialer::Target&, PeerId, const std::string& reason, bool) {
            closes.push_back(reason);
            return Redialer::Verdict{.give_up = give_up, .useful = true};
        },
        [](const std::string&) {}, RedialOptions{.first_back_off = 20ms, .max_back_off = 100ms});
    transport.post([&] { dialer->start(); });
    Runner runner{transport};
    // Waits for `pred` on the transport thread, letting the dialer redial meanwhile.
    auto ticking = [&](auto pred, std::chrono::milliseconds timeout = kWait) {
        return wait_until(
            transport,
            [&] {
                dialer->tick();
                return pred();
            },
            timeout);
    };
    ASSERT_TRUE(ticking([&] { return connects.size() == 1 && dialer->connected() == 1; }));
    server.reset();  // gone: its connection closes, and dials are refused while it is away
    ASSERT_TRUE(ticking([&] { return closes.size() == 1 && dialer->connected() == 0; }));
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(on_thread(transport, [&] { return dialer->connected() == 0 && !dialer->targets()[0].gone.empty(); }));
    server = std::make_unique<EchoServer>(TcpOptions{}, port);
    ASSERT_TRUE(ticking([&] { return connects.size() == 2 && dialer->connected() == 1; }));
    EXPECT_EQ(on_thread(transport, [&] { return connects[1].second; }), connects[0].first);  // the previous one
    // Given up on its next close: not dialled again.
    on_thread(transport, [&] { return give_up = true; });
    server.reset();
    ASSERT_TRUE(ticking([&] { return dialer->all_given_up(); }));
    server = std::make_unique<EchoServer>(TcpOptions{}, port);
    std::this_thread::sleep_for(200ms);
    EXPECT_FALSE(ticking([&] { return connects.size() > 2; }, 300ms));
}

}  // namespace
}  // namespace carousel::net
