// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Redialer over real loopback connections: its back-off, and what the judge of a closed connection
// decides. (tcp_transport_test.cpp has a server that goes away and comes back, and one given up.)
// Every test talks to 127.0.0.1 only, and every wait is bounded.
#include "redialer.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/testing/transport_thread.hpp>

namespace carousel::net {
namespace {

using namespace std::chrono_literals;
using carousel::testing::on_thread;
using carousel::testing::TransportThread;
using carousel::testing::wait_until;
using proto::PeerId;
using proto::Time;

// Takes connections and says nothing.
class Quiet final : public proto::Endpoint {
  public:
    void on_frame(PeerId, ByteView, Time) override {}
};

// The dialling side: may close every connection as it opens, or any one when told.
class Client final : public proto::Endpoint {
  public:
    using Endpoint::disconnect;
    void on_connect(PeerId peer, Time) override {
        if (close_on_connect) disconnect(peer, "closed by the client at once");
    }
    void on_frame(PeerId, ByteView, Time) override {}
    bool close_on_connect{false};
};

// A port on 127.0.0.1 where nothing listens (any more).
uint16_t closed_port() {
    Quiet e;
    TcpTransport t{e, {.log = [](std::string_view) {}}};
    return *t.listen("127.0.0.1", 0);
}

// A client transport with a Redialer to one target; the judge's verdict is `verdict`.
struct Dialling {
    Dialling(uint16_t port, Redialer::Verdict verdict, RedialOptions options) : verdict_{verdict} {
        TcpOptions tcp;
        tcp.log = [](std::string_view) {};
        tcp.on_close = [this](PeerId peer, const std::string& reason, bool violation) {
            dialer->on_close(peer, reason, violation);
        };
        transport = std::make_unique<TcpTransport>(client, tcp);
        Redialer::Target target;
        target.host = "127.0.0.1";
        target.port = port;
        dialer = std::make_unique<Redialer>(
            *transport, std::vector<Redialer::Target>{target},
            [this](const Redialer::Target&, PeerId peer, std::optional<PeerId>) {
                ++connects;
                if (close_when_connected) client.disconnect(peer, "done with it");
            },
            [this](const Redialer::Target&, PeerId, const std::string&, bool) {
                ++closes;
                return verdict_;
            },
            [this](const std::string& line) { log.push_back(line); }, options);
        transport->post([this] {
            dialer->start();
            started_at = dialer->targets()[0].reached_at;
        });
        thread = std::make_unique<TransportThread>(*transport);
    }
    ~Dialling() { thread.reset(); }  // stops the transport before the dialer goes
    Dialling(const Dialling&) = delete;
    Dialling& operator=(const Dialling&) = delete;

    // Waits for `pred` on the transport thread, ticking the dialer meanwhile.
    template <typename Pred>
    bool ticking(Pred pred, std::chrono::milliseconds timeout = testing::kTransportWait) {
        return wait_until(
            *transport,
            [&] {
                dialer->tick();
                return pred();
            },
            timeout);
    }
    template <typename Fn>
    auto on(Fn fn) {
        return on_thread(*transport, fn);
    }
    const Redialer::Target& target() const { return dialer->targets()[0]; }

    Client client;
    std::unique_ptr<TcpTransport> transport;
    std::unique_ptr<Redialer> dialer;
    std::unique_ptr<TransportThread> thread;
    // Transport thread only:
    bool close_when_connected{false};
    int connects{0};
    int closes{0};
    std::vector<std::string> log;
    Time started_at{0};

  private:
    Redialer::Verdict verdict_;
};

// Refused dials are tried again after first_back_off, doubling up to max_back_off; the reason is
// logged once, not at every attempt.
TEST(Redialer, RefusedDialsBackOffDoublingUpToTheCap) {
    const RedialOptions options{.first_back_off = 10ms, .max_back_off = 40ms};
    Dialling d{closed_port(), {}, options};
    int checked = 0;
    int last_failures = 0;
    // Each new failure's wait is at most the back-off for that many failures.
    ASSERT_TRUE(d.ticking(
        [&] {
            const Redialer::Target& t = d.target();
            if (t.failures != last_failures && t.dial_at) {
                last_failures = t.failures;
                const auto shift = std::min(t.failures - 1, 16);
                const auto back_off = std::min(options.first_back_off * (int64_t{1} << shift), options.max_back_off);
                EXPECT_LE(*t.dial_at - d.transport->now(), std::chrono::duration_cast<Time>(back_off))
                    << t.failures << " failures";
                ++checked;
            }
            // With the cap, ten failures take about 10+20+8*40 ms; doubling on, over five seconds.
            return t.failures >= 10;
        },
        2000ms));
    EXPECT_GE(checked, 4);
    d.on([&] {
        const Redialer::Target& t = d.target();
        EXPECT_EQ(t.connections, 0U);
        EXPECT_FALSE(t.peer);
        EXPECT_FALSE(t.given_up);
        EXPECT_NE(t.gone.find("cannot connect"), std::string::npos) << t.gone;
        EXPECT_EQ(d.dialer->connected(), 0U);
        EXPECT_FALSE(d.dialer->all_given_up());
        EXPECT_GT(d.dialer->unreached_for(), Time{0});
        EXPECT_EQ(d.connects, 0);
        EXPECT_EQ(d.closes, 0);  // a failed dial is no closed connection: the judge is not asked
        EXPECT_EQ(d.log.size(), 1U);
        if (!d.log.empty()) {
            EXPECT_NE(d.log[0].find("dialling again in 10 ms, doubling up to 40 ms"), std::string::npos) << d.log[0];
        }
        return true;
    });
}

// A connection that the client's endpoint closes in its on_connect never counts as connected: it
// is a failed dial, backed off as one.
TEST(Redialer, AConnectionClosedAsItOpensIsAFailedDial) {
    Quiet server;
    TcpTransport server_transport{server, {.log = [](std::string_view) {}}};
    const uint16_t port = *server_transport.listen("127.0.0.1", 0);
    TransportThread server_thread{server_transport};
    Dialling d{port, {.give_up = false, .useful = true}, {.first_back_off = 10ms, .max_back_off = 20ms}};
    d.on([&] { return d.client.close_on_connect = true; });
    ASSERT_TRUE(d.ticking([&] { return d.target().failures >= 3; }));
    d.on([&] {
        EXPECT_EQ(d.connects, 0);
        EXPECT_EQ(d.target().connections, 0U);
        EXPECT_EQ(d.target().gone, "closed as it connected");
        EXPECT_EQ(d.dialer->connected(), 0U);
        return true;
    });
}

// The judge decides whether a connection that closed was useful: a useful one starts the back-off
// over and counts as reaching the target; a useless one does neither, so a peer that accepts and
// closes at once is dialled ever more slowly.
class RedialerVerdict : public ::testing::TestWithParam<bool> {};

TEST_P(RedialerVerdict, DecidesTheBackOffAndReach) {
    const bool useful = GetParam();
    Quiet server;
    TcpTransport server_transport{server, {.log = [](std::string_view) {}}};
    const uint16_t port = *server_transport.listen("127.0.0.1", 0);
    TransportThread server_thread{server_transport};
    Dialling d{port, {.give_up = false, .useful = useful}, {.first_back_off = 5ms, .max_back_off = 1000ms}};
    // Connected: reached now, nothing unreached.
    ASSERT_TRUE(d.ticking([&] { return d.connects == 1; }));
    d.on([&] {
        EXPECT_EQ(d.dialer->connected(), 1U);
        EXPECT_EQ(d.dialer->unreached_for(), Time{0});
        EXPECT_TRUE(d.target().peer);
        return d.close_when_connected = true;
    });
    d.on([&] {
        d.client.disconnect(*d.target().peer, "done with it");
        return true;
    });
    // Three more connections, each closed by the client as it is reported.
    ASSERT_TRUE(d.ticking([&] { return d.closes >= 4 && !d.target().peer; }));
    d.on([&] {
        const Redialer::Target& t = d.target();
        EXPECT_FALSE(t.given_up);
        EXPECT_GE(t.connections, 4U);
        if (useful) {
            EXPECT_EQ(t.failures, 1);  // started over at each close, then this close
            EXPECT_GT(t.reached_at, d.started_at);
        } else {
            EXPECT_EQ(t.failures, d.closes);  // every close since the start counts
            EXPECT_EQ(t.reached_at, d.started_at);
        }
        return true;
    });
}

INSTANTIATE_TEST_SUITE_P(Useful, RedialerVerdict, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Useful" : "Useless"; });

}  // namespace
}  // namespace carousel::net
