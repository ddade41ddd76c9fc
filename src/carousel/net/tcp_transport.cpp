// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "tcp_transport.hpp"

#include "driver_log.hpp"
#include "frame_reader.hpp"
#include "udp_socket.hpp"

// Asio 1.74's scheduler, once inlined here, trips g++ 12's -Wnull-dereference (a middle-end warning,
// so the system-header exemption does not reach it). Only that warning, only in this file.
#pragma GCC diagnostic ignored "-Wnull-dereference"

// Under clang, Asio 1.74 looks for coroutines only in <experimental/coroutine>, which libstdc++ does not
// have: clang 14 (and so clang-tidy) would see no co_spawn. Its C++20 coroutines work with <coroutine>.
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#define BOOST_ASIO_HAS_STD_COROUTINE 1
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <carousel/proto/address.hpp>

namespace carousel::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using proto::PeerId;

namespace {

constexpr std::size_t kLengthPrefixSize = FrameReader::kLengthPrefixSize;

std::array<uint8_t, kLengthPrefixSize> encode_length(std::size_t n) noexcept {
    return {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
            static_cast<uint8_t>(n)};
}

std::string describe(const tcp::endpoint& ep) {
    error_code ec;
    const std::string address = ep.address().to_string(ec);
    return (ep.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(ep.port());
}

std::string read_error(const error_code& ec, bool mid_frame) {
    if (ec == asio::error::eof) return mid_frame ? "closed by peer in the middle of a frame" : "closed by peer";
    return "read failed: " + ec.message();
}

std::string ms(proto::Time t) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t).count()) + " ms";
}

}  // namespace

// One TCP connection. Touched only on the transport thread.
struct Connection {
    Connection(PeerId peer_id, tcp::socket s, std::string remote_address, bool accepted, proto::Time now)
        : id{peer_id},
          socket{std::move(s)},
          write_timer{socket.get_executor()},
          remote{std::move(remote_address)},
          inbound{accepted},
          last_frame{now} {}

    struct Pending {
        std::array<uint8_t, kLengthPrefixSize> length;
        Bytes frame;
    };

    PeerId id;
    tcp::socket socket;
    asio::steady_timer write_timer;  // the watchdog of the write in progress
    std::string remote;
    std::deque<Pending> queue;  // front: being written
    std::size_t queued_bytes{0};
    uint64_t write_generation{0};  // tells a watchdog whether its write is still the current one
    bool writing{false};           // a write loop is running
    bool closed{false};
    const bool inbound;  // accepted (counts toward max_inbound; idle_timeout applies)
    FrameReader reader;
    proto::Time last_frame;        // when the last complete frame arrived (or the connection opened)
    proto::Time frame_started{0};  // when the first byte of the frame in progress arrived
    proto::Time last_progress{0};  // when the last bytes arrived
    std::size_t charged{0};        // bytes of the frame in progress charged to max_partial_bytes
};

class TcpTransport::Impl {
  public:
    Impl(proto::Endpoint& endpoint, TcpOptions options)
        : endpoint_{endpoint},
          options_{std::move(options)},
          start_{std::chrono::steady_clock::now()},
          work_{asio::make_work_guard(ioc_)},
          deadline_timer_{ioc_, std::chrono::steady_clock::time_point::max()},
          sweep_timer_{ioc_},
          udp_{ioc_, options_.max_queued_datagrams, options_.log,
               [this](const proto::Address& from, ByteView datagram) { on_datagram(from, datagram); }} {
        asio::co_spawn(ioc_, timer_loop(), completion("timer loop"));
        if (options_.idle_timeout.count() > 0 || options_.frame_timeout.count() > 0) {
            asio::co_spawn(ioc_, sweep_loop(), completion("deadline sweep"));
        }
        // A core may want a timer before anything happens.
        asio::post(ioc_, [this] { arm_timer(); });
    }

    proto::Time now() const noexcept {
        return std::chrono::duration_cast<proto::Time>(std::chrono::steady_clock::now() - start_);
    }

    TcpStats stats() const noexcept {
        return {.frames_sent = frames_sent_.load(std::memory_order_relaxed),
                .bytes_sent = bytes_sent_.load(std::memory_order_relaxed),
                .frames_received = frames_received_.load(std::memory_order_relaxed),
                .bytes_received = bytes_received_.load(std::memory_order_relaxed),
                .frames_dropped = frames_dropped_.load(std::memory_order_relaxed),
                .connections_opened = connections_opened_.load(std::memory_order_relaxed),
                .connections_closed = connections_closed_.load(std::memory_order_relaxed),
                .connections_evicted = connections_evicted_.load(std::memory_order_relaxed),
                .read_deadlines_missed = read_deadlines_missed_.load(std::memory_order_relaxed),
                .partial_budget_closes = partial_budget_closes_.load(std::memory_order_relaxed)};
    }

    void run() { ioc_.run(); }
    void run_for(std::chrono::milliseconds duration) { ioc_.run_for(duration); }

    void stop() {
        if (stop_requested_.exchange(true)) return;
        asio::post(ioc_, [this] { shutdown(); });
    }

    // Runs whatever stop() left to do on the calling thread (the destructor's; nothing else runs).
    // Never throws: it runs in the destructor. A handler that throws here (the log callback, say)
    // ends the drain; what is left is destroyed with the io_context.
    void finish() noexcept {
        try {
            stop();
            ioc_.restart();
            ioc_.run();
        } catch (const std::exception& e) {
            (void)std::fprintf(stderr, "[net] stopping the transport failed: %s\n", e.what());
        } catch (...) {
            (void)std::fprintf(stderr, "[net] stopping the transport failed\n");
        }
    }

    void post(std::function<void()> fn) {
        asio::post(ioc_, [this, fn = std::move(fn)] {
            if (shut_down_) return;
            guarded("a posted function", fn);
            after_call();
        });
    }

    tl::expected<uint16_t, std::string> listen(const std::string& host, uint16_t port) {
        if (stop_requested_) return tl::unexpected(std::string{"transport stopped"});
        const std::string where = host + ":" + std::to_string(port);
        error_code ec;
        tcp::resolver resolver{ioc_};
        const auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
        if (ec || results.empty()) return tl::unexpected("cannot resolve " + where + ": " + ec.message());
        const tcp::endpoint ep = results.begin()->endpoint();

        auto acceptor = std::make_shared<tcp::acceptor>(ioc_);
        if (acceptor->open(ep.protocol(), ec); ec) return tl::unexpected("cannot open a socket: " + ec.message());
        if (acceptor->set_option(tcp::acceptor::reuse_address(true), ec); ec) {
            return tl::unexpected("cannot set SO_REUSEADDR: " + ec.message());
        }
        if (acceptor->bind(ep, ec); ec) return tl::unexpected("cannot bind " + describe(ep) + ": " + ec.message());
        if (acceptor->listen(asio::socket_base::max_listen_connections, ec); ec) {
            return tl::unexpected("cannot listen on " + describe(ep) + ": " + ec.message());
        }
        const tcp::endpoint bound = acceptor->local_endpoint(ec);
        if (ec) return tl::unexpected("cannot read the bound address: " + ec.message());

        asio::post(ioc_, [this, acceptor, bound] {
            if (shut_down_) return;
            acceptors_.push_back(acceptor);
            log("listening on " + describe(bound));
            asio::co_spawn(ioc_, accept_loop(acceptor), completion("accept loop"));
        });
        return bound.port();
    }

    tl::expected<uint16_t, std::string> bind_udp(const std::string& host, uint16_t port) {
        if (stop_requested_) return tl::unexpected(std::string{"transport stopped"});
        return udp_.bind(host, port);
    }

    UdpStats udp_stats() const noexcept { return udp_.stats(); }

    tl::expected<PeerId, std::string> connect(const std::string& host, uint16_t port) {
        if (stop_requested_) return tl::unexpected(std::string{"transport stopped"});
        const std::string where = host + ":" + std::to_string(port);
        // The handshake runs on a private io_context of the calling thread, so that this works
        // whether or not the transport thread is running; the socket then moves over.
        asio::io_context local;
        error_code ec;
        tcp::resolver resolver{local};
        const auto results = resolver.resolve(host, std::to_string(port), ec);
        if (ec) return tl::unexpected("cannot resolve " + where + ": " + ec.message());
        tcp::socket socket{local};
        std::optional<error_code> result;
        asio::async_connect(socket, results, [&result](const error_code& e, const tcp::endpoint&) { result = e; });
        local.run_for(options_.connect_timeout);
        if (!result) {
            socket.close(ec);
            local.run();
            return tl::unexpected("connect to " + where + " timed out after " +
                                  std::to_string(options_.connect_timeout.count()) + " ms");
        }
        if (*result) return tl::unexpected("cannot connect to " + where + ": " + result->message());
        const std::string remote = describe(socket.remote_endpoint(ec));
        const auto protocol = socket.local_endpoint(ec).protocol();
        const auto native = socket.release(ec);
        if (ec) return tl::unexpected("cannot hand over the socket: " + ec.message());
        tcp::socket adopted{ioc_};
        if (adopted.assign(protocol, native, ec); ec) return tl::unexpected("cannot adopt the socket: " + ec.message());

        const PeerId id = next_id_.fetch_add(1);
        asio::post(ioc_,
                   [this, s = std::move(adopted), id, remote]() mutable { adopt(std::move(s), id, remote, false); });
        return id;
    }

    void connect_async(const std::string& host, uint16_t port, ConnectHandler done) {
        asio::co_spawn(ioc_, connect_coroutine(host, port, std::move(done)), completion("connect"));
    }

  private:
    // driver_log.hpp's, with this transport's log.
    template <typename Fn>
    bool guarded(std::string_view what, Fn&& fn) {
        return net::guarded(options_.log, what, std::forward<Fn>(fn));
    }
    LogException completion(std::string what) const { return {&options_.log, std::move(what)}; }
    void log(const std::string& line) const { log_line(options_.log, line); }

    // Closes the listeners and every connection; run() returns once the last handler is done.
    void shutdown() {
        shut_down_ = true;
        for (const auto& acceptor : acceptors_) {
            error_code ec;
            acceptor->close(ec);
        }
        acceptors_.clear();
        // Copy: close() erases from the map.
        std::vector<std::shared_ptr<Connection>> open;
        for (const auto& [id, c] : connections_) open.push_back(c);
        for (const auto& c : open) close(c, "transport stopped");
        for (const auto& socket : connecting_) {
            error_code ec;
            socket->close(ec);
        }
        udp_.close();
        deadline_timer_.cancel();
        sweep_timer_.cancel();
        work_.reset();
    }

    // Drains the endpoint and re-arms the timer; after every call into the endpoint.
    void after_call() {
        for (auto& out : endpoint_.take_outbox()) send(out.to, std::move(out.frame));
        for (auto& d : endpoint_.take_disconnects()) {
            const auto it = connections_.find(d.peer);
            if (it != connections_.end()) close(it->second, "dropped by the endpoint: " + d.reason);
        }
        for (const proto::Address& to : endpoint_.take_dials()) {
            // Once stopping, a dial would fail at once and a core that redials on failure would
            // keep the loop from ever ending: such dials go unanswered.
            if (shut_down_) break;
            asio::co_spawn(ioc_, dial_coroutine(to), completion("dial to " + proto::to_string(to)));
        }
        // Once stopping, the socket is closed and discards them.
        for (auto& out : endpoint_.take_datagrams()) udp_.send(std::move(out));
        arm_timer();
    }

    // A valid datagram from the UDP socket. The packet boundary: whatever the endpoint does with
    // it, receiving goes on.
    void on_datagram(const proto::Address& from, ByteView datagram) {
        guarded("on_datagram", [&] { endpoint_.on_datagram(from, datagram, now()); });
        after_call();
    }

    void arm_timer() {
        if (shut_down_) return;
        const std::optional<proto::Time> deadline = endpoint_.next_deadline();
        if (deadline == armed_) return;
        armed_ = deadline;
        // Changing the expiry cancels the wait in progress; timer_loop() then waits for the new one.
        deadline_timer_.expires_at(deadline ? start_ + *deadline : std::chrono::steady_clock::time_point::max());
    }

    asio::awaitable<void> timer_loop() {
        while (!shut_down_) {
            error_code ec;
            co_await deadline_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (shut_down_) break;
            // A completion that raced with a re-arm finds armed_ changed: check the time itself.
            if (ec || !armed_ || now() < *armed_) continue;
            armed_.reset();
            deadline_timer_.expires_at(std::chrono::steady_clock::time_point::max());
            guarded("on_timer", [this] { endpoint_.on_timer(now()); });
            after_call();
        }
    }

    asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor) {
        for (;;) {
            error_code ec;
            tcp::socket socket = co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (shut_down_ || ec == asio::error::operation_aborted) co_return;
            if (ec) {
                // Out of descriptors, or the like: say so and pause instead of spinning.
                log("accept failed: " + ec.message());
                asio::steady_timer pause{ioc_, std::chrono::milliseconds{50}};
                co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                continue;
            }
            const std::string remote = describe(socket.remote_endpoint(ec));
            if (options_.max_inbound > 0 && inbound_ >= options_.max_inbound) evict_quietest();
            adopt(std::move(socket), next_id_.fetch_add(1), remote, true);
        }
    }

    // At the cap of accepted connections: closes the accepted one that has gone longest without a
    // complete frame (an idle or slow-loris connection before any working peer), so a new peer
    // always gets in and holding the slots costs an attacker a stream of new connections.
    void evict_quietest() {
        std::shared_ptr<Connection> quietest;
        for (const auto& [id, c] : connections_) {
            if (c->inbound && (!quietest || c->last_frame < quietest->last_frame)) quietest = c;
        }
        if (!quietest) return;
        connections_evicted_.fetch_add(1, std::memory_order_relaxed);
        close(quietest, "evicted for a new connection at the cap of " + std::to_string(options_.max_inbound) +
                            " (no complete frame for " + ms(now() - quietest->last_frame) + ")");
    }

    // Closes connections past their read deadlines: a frame begun must not stall for frame_timeout,
    // and after frame_timeout its bytes must keep up with min_frame_rate (received >= rate times the
    // time since its first byte, less frame_timeout); an accepted connection must send a frame every
    // idle_timeout.
    asio::awaitable<void> sweep_loop() {
        std::chrono::milliseconds shortest = std::chrono::milliseconds::max();
        for (const auto t : {options_.idle_timeout, options_.frame_timeout}) {
            if (t.count() > 0) shortest = std::min(shortest, t);
        }
        const auto period = std::clamp(shortest / 8, std::chrono::milliseconds{20}, std::chrono::milliseconds{1000});
        while (!shut_down_) {
            error_code ec;
            sweep_timer_.expires_after(period);
            co_await sweep_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (shut_down_) break;
            const proto::Time t = now();
            std::vector<std::pair<std::shared_ptr<Connection>, std::string>> late;
            for (const auto& [id, c] : connections_) {
                if (c->reader.mid_frame() && options_.frame_timeout.count() > 0) {
                    const auto grace = std::chrono::duration_cast<proto::Time>(options_.frame_timeout);
                    const std::size_t received = c->reader.received();
                    const auto credit =
                        proto::Time{options_.min_frame_rate == 0
                                        ? 0
                                        : static_cast<int64_t>(received * 1'000'000 / options_.min_frame_rate)};
                    const std::optional<std::size_t> length = c->reader.announced();
                    const std::string what = "read deadline: a frame of " + (length ? std::to_string(*length) + " bytes"
                                                                                    : std::string{"unknown length"});
                    if (t - c->last_progress > grace) {
                        late.emplace_back(c, what + " stalled for " + ms(t - c->last_progress) + " (" +
                                                 std::to_string(received) + " bytes received)");
                    } else if (options_.min_frame_rate > 0 && t - c->frame_started > grace + credit) {
                        late.emplace_back(c, what + " too slow (" + std::to_string(received) + " bytes in " +
                                                 ms(t - c->frame_started) + ", under " +
                                                 std::to_string(options_.min_frame_rate) + " bytes/s)");
                    }
                } else if (c->inbound && !c->reader.mid_frame() && options_.idle_timeout.count() > 0 &&
                           t - c->last_frame > options_.idle_timeout) {
                    late.emplace_back(c, "idle: no frame for " + ms(t - c->last_frame));
                }
            }
            for (auto& [c, reason] : late) {
                read_deadlines_missed_.fetch_add(1, std::memory_order_relaxed);
                close(c, reason);
            }
        }
    }

    // Charges `more` bytes of c's frame in progress to max_partial_bytes. Over the budget, the
    // connection holding the largest partial frame goes first (a flood of big partial frames cannot
    // starve small requests); if that is c itself, c goes. False if c was closed.
    bool charge(const std::shared_ptr<Connection>& c, std::size_t more) {
        if (options_.max_partial_bytes > 0) {
            while (partial_bytes_ + more > options_.max_partial_bytes) {
                std::shared_ptr<Connection> largest;
                for (const auto& [id, other] : connections_) {
                    if (other != c && (!largest || other->charged > largest->charged)) largest = other;
                }
                const bool self = !largest || largest->charged <= c->charged + more;
                const std::shared_ptr<Connection> victim = self ? c : largest;
                partial_budget_closes_.fetch_add(1, std::memory_order_relaxed);
                close(victim, "partly received frames over the budget of " +
                                  std::to_string(options_.max_partial_bytes) + " bytes (this one held " +
                                  std::to_string(victim->charged) + ")");
                if (self) return false;
            }
        }
        partial_bytes_ += more;
        c->charged += more;
        return true;
    }

    void release_charge(Connection& c) noexcept {
        partial_bytes_ -= c.charged;
        c.charged = 0;
    }

    // connect_async(): resolves host:port, then connects as a dial does (open_connection()); `done`
    // learns the outcome after the endpoint's on_connect.
    asio::awaitable<void> connect_coroutine(std::string host, uint16_t port, ConnectHandler done) {
        const std::string where = host + ":" + std::to_string(port);
        auto finish = [&](tl::expected<PeerId, std::string> outcome) {
            if (done) guarded("a connect handler", [&] { done(std::move(outcome)); });
        };
        if (shut_down_) {
            finish(tl::unexpected(std::string{"transport stopped"}));
            co_return;
        }
        error_code ec;
        tcp::resolver resolver{ioc_};
        const auto results =
            co_await resolver.async_resolve(host, std::to_string(port), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            finish(tl::unexpected("cannot resolve " + where + ": " + ec.message()));
            co_return;
        }
        const std::vector<tcp::endpoint> endpoints(results.begin(), results.end());
        finish(co_await open_connection(endpoints, where, std::nullopt));
    }

    // The endpoint's dial(`to`): on_dialed and on_connect once connected (open_connection()), or
    // on_dial_failed.
    asio::awaitable<void> dial_coroutine(proto::Address to) {
        // Built outside the co_await: g++ 12 cannot build an initializer_list inside one ("array used
        // as initializer").
        std::vector<tcp::endpoint> endpoints{tcp::endpoint{asio::ip::address_v4{to.ip}, to.port}};
        const auto outcome = co_await open_connection(std::move(endpoints), proto::to_string(to), to);
        if (outcome) co_return;
        log("dial to " + proto::to_string(to) + " failed: " + outcome.error());
        guarded("on_dial_failed", [&] { endpoint_.on_dial_failed(to, now()); });
        after_call();
    }

    // Connects to the first of `endpoints` that answers within connect_timeout and adopts the
    // socket as a new peer (as dialed to `dialed`, if set); the new peer's id, or why not.
    asio::awaitable<tl::expected<PeerId, std::string>> open_connection(std::vector<tcp::endpoint> endpoints,
                                                                       std::string where,
                                                                       std::optional<proto::Address> dialed) {
        if (shut_down_) co_return tl::unexpected(std::string{"transport stopped"});
        // The watchdog holds the socket, not this frame: it may fire after the frame is gone.
        auto socket = std::make_shared<tcp::socket>(ioc_);
        auto timed_out = std::make_shared<bool>(false);
        asio::steady_timer watchdog{ioc_, options_.connect_timeout};
        watchdog.async_wait([socket, timed_out](const error_code& e) {
            if (e) return;
            *timed_out = true;
            error_code ignored;
            socket->close(ignored);
        });
        connecting_.insert(socket);
        error_code ec;
        co_await asio::async_connect(*socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
        connecting_.erase(socket);
        watchdog.cancel();
        if (*timed_out) {
            co_return tl::unexpected("connect to " + where + " timed out after " +
                                     std::to_string(options_.connect_timeout.count()) + " ms");
        }
        if (ec) co_return tl::unexpected("cannot connect to " + where + ": " + ec.message());
        if (shut_down_) co_return tl::unexpected(std::string{"transport stopped"});
        const std::string remote = describe(socket->remote_endpoint(ec));
        const PeerId id = next_id_.fetch_add(1);
        adopt(std::move(*socket), id, remote, false, dialed);
        co_return id;
    }

    // Takes a connected socket on as peer `id`: tells the endpoint (on_dialed first if the endpoint
    // dialed it), then starts reading. The endpoint gets on_connect even if on_dialed made it drop
    // the peer, so that on_disconnect always follows an on_connect.
    void adopt(tcp::socket socket, PeerId id, const std::string& remote, bool inbound,
               const std::optional<proto::Address>& dialed = std::nullopt) {
        if (shut_down_) {
            error_code ec;
            socket.close(ec);
            return;
        }
        error_code ec;
        socket.set_option(tcp::no_delay(true), ec);
        auto c = std::make_shared<Connection>(id, std::move(socket), remote, inbound, now());
        connections_.emplace(id, c);
        if (inbound) ++inbound_;
        // A connection this side dialled is logged (one per peer and reconnection); accepted ones are
        // not, or a flood of them would flood the log.
        if (!inbound) log("peer " + std::to_string(id) + " (" + remote + ") connected");
        connections_opened_.fetch_add(1, std::memory_order_relaxed);
        if (dialed) {
            if (!guarded("on_dialed", [&] { endpoint_.on_dialed(*dialed, id, now()); })) {
                close(c, "the endpoint failed on dialed");
            }
            after_call();
        }
        if (!guarded("on_connect", [&] { endpoint_.on_connect(id, now()); })) {
            close(c, "the endpoint failed on connect");
        }
        after_call();
        if (!c->closed) asio::co_spawn(ioc_, read_loop(c), completion("read loop of peer " + std::to_string(id)));
    }

    // One peer's receive loop. Ends with the connection; never touches another one. Reads go straight
    // into the frame's buffer (FrameReader), which grows only as bytes arrive and is charged to the
    // budget of partly received frames before it does.
    asio::awaitable<void> read_loop(std::shared_ptr<Connection> c) {
        while (!c->closed) {
            if (const std::size_t more = c->reader.growth(); more > 0 && !charge(c, more)) co_return;
            const std::span<uint8_t> into = c->reader.read_buffer();
            error_code ec;
            const std::size_t n = co_await c->socket.async_read_some(asio::buffer(into.data(), into.size()),
                                                                     asio::redirect_error(asio::use_awaitable, ec));
            if (c->closed) co_return;
            if (ec) {
                // Closed in the middle of a frame: the peer broke the framing.
                close(c, read_error(ec, c->reader.mid_frame()), /*violation=*/c->reader.mid_frame());
                co_return;
            }
            if (!c->reader.mid_frame() && n > 0) c->frame_started = now();
            c->last_progress = now();
            const FrameReader::Event event = c->reader.commit(n);
            if (event == FrameReader::Event::kBadLength) {
                close(c,
                      "frame length " + std::to_string(c->reader.bad_length()) + " outside 1.." +
                          std::to_string(proto::kMaxFrameSize),
                      /*violation=*/true);
                co_return;
            }
            if (event == FrameReader::Event::kNeedMore) continue;
            const Bytes frame = c->reader.take_frame();
            release_charge(*c);
            c->last_frame = now();
            frames_received_.fetch_add(1, std::memory_order_relaxed);
            bytes_received_.fetch_add(frame.size(), std::memory_order_relaxed);
            // The packet boundary: whatever the endpoint does with this frame, only this peer pays.
            if (!guarded("on_frame", [&] { endpoint_.on_frame(c->id, frame, now()); })) {
                close(c, "the endpoint failed on its frame");
            }
            after_call();
        }
    }

    void send(PeerId to, Bytes frame) {
        if (frame.empty() || frame.size() > proto::kMaxFrameSize) {
            log("dropped a frame of " + std::to_string(frame.size()) + " bytes for peer " + std::to_string(to) +
                ": outside 1.." + std::to_string(proto::kMaxFrameSize));
            frames_dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        const auto it = connections_.find(to);
        if (it == connections_.end()) {
            frames_dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        const std::shared_ptr<Connection> c = it->second;
        const std::size_t cost = kLengthPrefixSize + frame.size();
        if (c->queued_bytes + cost > options_.max_queued_bytes) {
            frames_dropped_.fetch_add(1, std::memory_order_relaxed);
            close(c, "write queue over " + std::to_string(options_.max_queued_bytes) + " bytes (" +
                         std::to_string(c->queued_bytes) + " queued, " + std::to_string(cost) + " more)");
            return;
        }
        c->queued_bytes += cost;
        c->queue.push_back({encode_length(frame.size()), std::move(frame)});
        if (!c->writing) {
            c->writing = true;
            asio::co_spawn(ioc_, write_loop(c), completion("write loop of peer " + std::to_string(c->id)));
        }
    }

    // One async_write at a time per connection, each raced against send_timeout.
    asio::awaitable<void> write_loop(std::shared_ptr<Connection> c) {
        while (!c->closed && !c->queue.empty()) {
            // deque::push_back keeps references to existing elements valid while this one is written.
            Connection::Pending& pending = c->queue.front();
            const uint64_t generation = ++c->write_generation;
            c->write_timer.expires_after(options_.send_timeout);
            c->write_timer.async_wait([this, weak = std::weak_ptr<Connection>{c}, generation](const error_code& e) {
                if (e) return;
                const auto conn = weak.lock();
                if (!conn || conn->write_generation != generation) return;
                close(conn, "send timed out after " + std::to_string(options_.send_timeout.count()) + " ms");
            });
            const std::array<asio::const_buffer, 2> buffers{asio::buffer(pending.length),
                                                            asio::buffer(pending.frame.data(), pending.frame.size())};
            error_code ec;
            co_await asio::async_write(c->socket, buffers, asio::redirect_error(asio::use_awaitable, ec));
            ++c->write_generation;
            c->write_timer.cancel();
            if (c->closed) co_return;
            if (ec) {
                close(c, "write failed: " + ec.message());
                co_return;
            }
            frames_sent_.fetch_add(1, std::memory_order_relaxed);
            bytes_sent_.fetch_add(pending.frame.size(), std::memory_order_relaxed);
            c->queued_bytes -= kLengthPrefixSize + pending.frame.size();
            c->queue.pop_front();
        }
        c->writing = false;
    }

    // Closes a connection once (the first reason wins), discards what was queued for it, and tells
    // the endpoint on a later turn of the loop (never re-entrantly).
    // `c` by value: the map entry a caller may have passed is erased below.
    // NOLINTNEXTLINE(performance-unnecessary-value-param)
    void close(std::shared_ptr<Connection> c, const std::string& reason, bool violation = false) {
        if (c->closed) return;
        c->closed = true;
        log("peer " + std::to_string(c->id) + " (" + c->remote + ") closed: " + reason);
        if (options_.on_close) guarded("on_close", [&] { options_.on_close(c->id, reason, violation); });
        error_code ec;
        c->socket.shutdown(tcp::socket::shutdown_both, ec);
        c->socket.close(ec);
        c->write_timer.cancel();
        frames_dropped_.fetch_add(c->queue.size(), std::memory_order_relaxed);
        // The frame being written stays alive until its write loop has seen the cancellation.
        if (c->writing && !c->queue.empty()) {
            while (c->queue.size() > 1) c->queue.pop_back();
        } else {
            c->queue.clear();
        }
        c->queued_bytes = 0;
        release_charge(*c);
        if (c->inbound) --inbound_;
        connections_.erase(c->id);
        connections_closed_.fetch_add(1, std::memory_order_relaxed);
        asio::post(ioc_, [this, id = c->id] {
            guarded("on_disconnect", [&] { endpoint_.on_disconnect(id, now()); });
            after_call();
        });
    }

    proto::Endpoint& endpoint_;
    const TcpOptions options_;
    const std::chrono::steady_clock::time_point start_;
    asio::io_context ioc_;  // before everything that uses it: destroyed last
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    asio::steady_timer deadline_timer_;
    asio::steady_timer sweep_timer_;    // sweep_loop()'s
    std::optional<proto::Time> armed_;  // the deadline deadline_timer_ is set to
    UdpSocket udp_;                     // bound by bind_udp(), if ever
    std::map<PeerId, std::shared_ptr<Connection>> connections_;
    std::vector<std::shared_ptr<tcp::acceptor>> acceptors_;
    std::set<std::shared_ptr<tcp::socket>> connecting_;  // sockets of connect_async() in progress
    std::atomic<PeerId> next_id_{1};
    std::atomic<bool> stop_requested_{false};
    bool shut_down_{false};         // transport thread only
    std::size_t inbound_{0};        // accepted connections open (transport thread only)
    std::size_t partial_bytes_{0};  // bytes charged by frames in progress (transport thread only)
    std::atomic<uint64_t> frames_sent_{0};
    std::atomic<uint64_t> bytes_sent_{0};
    std::atomic<uint64_t> frames_received_{0};
    std::atomic<uint64_t> bytes_received_{0};
    std::atomic<uint64_t> frames_dropped_{0};
    std::atomic<uint64_t> connections_opened_{0};
    std::atomic<uint64_t> connections_closed_{0};
    std::atomic<uint64_t> connections_evicted_{0};
    std::atomic<uint64_t> read_deadlines_missed_{0};
    std::atomic<uint64_t> partial_budget_closes_{0};
};

TcpTransport::TcpTransport(proto::Endpoint& endpoint, TcpOptions options)
    : impl_{std::make_unique<Impl>(endpoint, std::move(options))} {}

TcpTransport::~TcpTransport() { impl_->finish(); }

tl::expected<uint16_t, std::string> TcpTransport::listen(const std::string& host, uint16_t port) {
    return impl_->listen(host, port);
}

tl::expected<proto::PeerId, std::string> TcpTransport::connect(const std::string& host, uint16_t port) {
    return impl_->connect(host, port);
}

tl::expected<uint16_t, std::string> TcpTransport::bind_udp(const std::string& host, uint16_t port) {
    return impl_->bind_udp(host, port);
}

void TcpTransport::connect_async(const std::string& host, uint16_t port, ConnectHandler done) {
    impl_->connect_async(host, port, std::move(done));
}

void TcpTransport::run() { impl_->run(); }
void TcpTransport::run_for(std::chrono::milliseconds duration) { impl_->run_for(duration); }
void TcpTransport::stop() { impl_->stop(); }
void TcpTransport::post(std::function<void()> fn) { impl_->post(std::move(fn)); }
proto::Time TcpTransport::now() const noexcept { return impl_->now(); }
TcpStats TcpTransport::stats() const noexcept { return impl_->stats(); }
UdpStats TcpTransport::udp_stats() const noexcept { return impl_->udp_stats(); }

tl::expected<uint16_t, std::string> listen_tcp_and_udp(TcpTransport& transport, const std::string& host,
                                                       uint16_t port) {
    auto tcp_port = transport.listen(host, port);
    if (!tcp_port)
        return tl::make_unexpected("cannot listen on " + host + ":" + std::to_string(port) + ": " + tcp_port.error());
    auto udp_port = transport.bind_udp(host, *tcp_port);
    if (!udp_port)
        return tl::make_unexpected("cannot bind UDP " + host + ":" + std::to_string(*tcp_port) + ": " +
                                   udp_port.error());
    return *tcp_port;
}

}  // namespace carousel::net
