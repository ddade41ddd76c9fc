// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "udp_transport.hpp"

#include "driver_log.hpp"

// As in tcp_transport.cpp: Asio 1.74's scheduler trips g++ 12's -Wnull-dereference once inlined.
#pragma GCC diagnostic ignored "-Wnull-dereference"

// As in tcp_transport.cpp: under clang, Asio 1.74 finds C++20 coroutines only with these.
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#define BOOST_ASIO_HAS_STD_COROUTINE 1
#endif

#include <array>
#include <atomic>
#include <cstdio>
#include <deque>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace carousel::net {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using boost::system::error_code;
using proto::kMaxDatagramSize;

namespace {

udp::endpoint to_endpoint(const proto::Address& a) { return {asio::ip::address_v4{a.ip}, a.port}; }

// The socket is IPv4, so every source address is.
proto::Address to_address(const udp::endpoint& e) { return {e.address().to_v4().to_bytes(), e.port()}; }

}  // namespace

class UdpTransport::Impl {
  public:
    Impl(proto::DatagramEndpoint& endpoint, UdpOptions options)
        : endpoint_{endpoint},
          options_{std::move(options)},
          start_{std::chrono::steady_clock::now()},
          work_{asio::make_work_guard(ioc_)},
          deadline_timer_{ioc_, std::chrono::steady_clock::time_point::max()} {
        asio::co_spawn(ioc_, timer_loop(), completion("timer loop"));
        // A core may want a timer before anything happens.
        asio::post(ioc_, [this] { arm_timer(); });
    }

    proto::Time now() const noexcept {
        return std::chrono::duration_cast<proto::Time>(std::chrono::steady_clock::now() - start_);
    }

    UdpStats stats() const noexcept {
        return {.datagrams_sent = datagrams_sent_.load(std::memory_order_relaxed),
                .bytes_sent = bytes_sent_.load(std::memory_order_relaxed),
                .datagrams_received = datagrams_received_.load(std::memory_order_relaxed),
                .bytes_received = bytes_received_.load(std::memory_order_relaxed),
                .received_oversize = received_oversize_.load(std::memory_order_relaxed),
                .received_empty = received_empty_.load(std::memory_order_relaxed),
                .receive_errors = receive_errors_.load(std::memory_order_relaxed),
                .sends_out_of_bounds = sends_out_of_bounds_.load(std::memory_order_relaxed),
                .sends_queue_full = sends_queue_full_.load(std::memory_order_relaxed),
                .send_errors = send_errors_.load(std::memory_order_relaxed)};
    }

    void run() { ioc_.run(); }
    void run_for(std::chrono::milliseconds duration) { ioc_.run_for(duration); }

    void stop() {
        if (stop_requested_.exchange(true)) return;
        asio::post(ioc_, [this] { shutdown(); });
    }

    // Runs whatever stop() left to do on the calling thread (the destructor's). Never throws.
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
            guarded(options_.log, "a posted function", fn);
            after_call();
        });
    }

    tl::expected<uint16_t, std::string> bind(const std::string& host, uint16_t port) {
        if (stop_requested_) return tl::unexpected(std::string{"transport stopped"});
        if (bound_.exchange(true)) return tl::unexpected(std::string{"already bound"});
        auto result = open_socket(host, port);
        // A failed bind() may be tried again.
        if (!result) bound_ = false;
        return result;
    }

  private:
    // Opens and binds the socket on the calling thread, then hands it to the transport thread.
    tl::expected<uint16_t, std::string> open_socket(const std::string& host, uint16_t port) {
        const std::string where = host + ":" + std::to_string(port);
        error_code ec;
        udp::resolver resolver{ioc_};
        const auto results = resolver.resolve(udp::v4(), host, std::to_string(port), udp::resolver::passive, ec);
        if (ec || results.empty()) return tl::unexpected("cannot resolve " + where + " to IPv4: " + ec.message());
        const udp::endpoint ep = results.begin()->endpoint();

        auto socket = std::make_shared<udp::socket>(ioc_);
        if (socket->open(udp::v4(), ec); ec) return tl::unexpected("cannot open a socket: " + ec.message());
        if (socket->bind(ep, ec); ec) return tl::unexpected("cannot bind " + where + ": " + ec.message());
        const udp::endpoint bound = socket->local_endpoint(ec);
        if (ec) return tl::unexpected("cannot read the bound address: " + ec.message());

        asio::post(ioc_, [this, socket, bound] {
            if (shut_down_) {
                error_code ignored;
                socket->close(ignored);
                return;
            }
            socket_ = socket;
            log("bound to udp " + proto::to_string(to_address(bound)));
            asio::co_spawn(ioc_, receive_loop(socket), completion("receive loop"));
            start_sending();
        });
        return bound.port();
    }

    LogException completion(std::string what) const { return {&options_.log, std::move(what)}; }
    void log(const std::string& line) const { log_line(options_.log, line); }

    void shutdown() {
        shut_down_ = true;
        if (socket_) {
            error_code ec;
            socket_->close(ec);
        }
        // The datagram being sent, if any, stays until its send loop has seen the cancellation.
        while (queue_.size() > (sending_ ? 1 : 0)) queue_.pop_back();
        deadline_timer_.cancel();
        work_.reset();
    }

    // Drains the endpoint and re-arms the timer; after every call into the endpoint.
    void after_call() {
        for (auto& out : endpoint_.take_datagrams()) enqueue(out);
        arm_timer();
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
            guarded(options_.log, "on_timer", [this] { endpoint_.on_timer(now()); });
            after_call();
        }
    }

    // The one receive loop. One byte more than the bound shows a datagram over it: the kernel
    // truncates it to the buffer, and a full buffer is one too many.
    asio::awaitable<void> receive_loop(std::shared_ptr<udp::socket> socket) {
        std::array<uint8_t, kMaxDatagramSize + 1> buffer{};
        udp::endpoint from;
        while (!shut_down_) {
            error_code ec;
            const std::size_t n = co_await socket->async_receive_from(asio::buffer(buffer), from,
                                                                      asio::redirect_error(asio::use_awaitable, ec));
            if (shut_down_ || ec == asio::error::operation_aborted) co_return;
            if (ec) {
                receive_errors_.fetch_add(1, std::memory_order_relaxed);
                // An ICMP error about an earlier send (where peers had the endpoint reply), where the
                // system reports it on an unconnected socket: no fault of this socket's.
                if (ec == asio::error::connection_refused || ec == asio::error::connection_reset) continue;
                // Anything else (out of memory, say): say so and pause instead of spinning.
                log("receive failed: " + ec.message());
                asio::steady_timer pause{ioc_, std::chrono::milliseconds{50}};
                co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                continue;
            }
            if (n == 0) {
                received_empty_.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            if (n > kMaxDatagramSize) {
                received_oversize_.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            datagrams_received_.fetch_add(1, std::memory_order_relaxed);
            bytes_received_.fetch_add(n, std::memory_order_relaxed);
            // The packet boundary: whatever the endpoint does with this datagram, the loop goes on.
            guarded(options_.log, "on_datagram", [&] {
                endpoint_.on_datagram(to_address(from), ByteView{buffer.data(), n}, now());
            });
            after_call();
        }
    }

    void enqueue(proto::OutgoingDatagram& out) {
        if (out.datagram.empty() || out.datagram.size() > kMaxDatagramSize) {
            sends_out_of_bounds_.fetch_add(1, std::memory_order_relaxed);
            log("dropped a datagram of " + std::to_string(out.datagram.size()) + " bytes for " +
                proto::to_string(out.to) + ": outside 1.." + std::to_string(kMaxDatagramSize));
            return;
        }
        if (queue_.size() >= options_.max_queued_datagrams) {
            sends_queue_full_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        queue_.push_back(std::move(out));
        start_sending();
    }

    void start_sending() {
        if (sending_ || !socket_ || queue_.empty() || shut_down_) return;
        sending_ = true;
        asio::co_spawn(ioc_, send_loop(socket_), completion("send loop"));
    }

    // One send at a time, in order. A datagram the socket refuses is counted and dropped.
    asio::awaitable<void> send_loop(std::shared_ptr<udp::socket> socket) {
        while (!shut_down_ && !queue_.empty()) {
            // deque::push_back keeps references to existing elements valid while this one is sent.
            const proto::OutgoingDatagram& out = queue_.front();
            error_code ec;
            const std::size_t n =
                co_await socket->async_send_to(asio::buffer(out.datagram.data(), out.datagram.size()),
                                               to_endpoint(out.to), asio::redirect_error(asio::use_awaitable, ec));
            if (shut_down_) break;
            if (ec || n != out.datagram.size()) {
                send_errors_.fetch_add(1, std::memory_order_relaxed);
                log_send_error(out.to,
                               ec ? ec.message()
                                  : "sent " + std::to_string(n) + " bytes of " + std::to_string(out.datagram.size()));
            } else {
                datagrams_sent_.fetch_add(1, std::memory_order_relaxed);
                bytes_sent_.fetch_add(n, std::memory_order_relaxed);
            }
            queue_.pop_front();
        }
        if (shut_down_) queue_.clear();
        sending_ = false;
    }

    // At most one line a second: peers choose where the endpoint replies, and so what fails.
    void log_send_error(const proto::Address& to, const std::string& why) {
        const proto::Time t = now();
        if (last_send_error_log_ && t - *last_send_error_log_ < std::chrono::seconds{1}) return;
        last_send_error_log_ = t;
        log("send to " + proto::to_string(to) + " failed: " + why + " (" +
            std::to_string(send_errors_.load(std::memory_order_relaxed)) + " send errors so far)");
    }

    proto::DatagramEndpoint& endpoint_;
    const UdpOptions options_;
    const std::chrono::steady_clock::time_point start_;
    asio::io_context ioc_;  // before everything that uses it: destroyed last
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    asio::steady_timer deadline_timer_;
    std::optional<proto::Time> armed_;  // the deadline deadline_timer_ is set to
    std::shared_ptr<udp::socket> socket_;
    std::deque<proto::OutgoingDatagram> queue_;  // front: being sent
    std::optional<proto::Time> last_send_error_log_;
    std::atomic<bool> stop_requested_{false};
    std::atomic<bool> bound_{false};  // bind() succeeded or is under way
    bool shut_down_{false};           // transport thread only
    bool sending_{false};             // a send loop is running (transport thread only)
    std::atomic<uint64_t> datagrams_sent_{0};
    std::atomic<uint64_t> bytes_sent_{0};
    std::atomic<uint64_t> datagrams_received_{0};
    std::atomic<uint64_t> bytes_received_{0};
    std::atomic<uint64_t> received_oversize_{0};
    std::atomic<uint64_t> received_empty_{0};
    std::atomic<uint64_t> receive_errors_{0};
    std::atomic<uint64_t> sends_out_of_bounds_{0};
    std::atomic<uint64_t> sends_queue_full_{0};
    std::atomic<uint64_t> send_errors_{0};
};

UdpTransport::UdpTransport(proto::DatagramEndpoint& endpoint, UdpOptions options)
    : impl_{std::make_unique<Impl>(endpoint, std::move(options))} {}

UdpTransport::~UdpTransport() { impl_->finish(); }

tl::expected<uint16_t, std::string> UdpTransport::bind(const std::string& host, uint16_t port) {
    return impl_->bind(host, port);
}

void UdpTransport::run() { impl_->run(); }
void UdpTransport::run_for(std::chrono::milliseconds duration) { impl_->run_for(duration); }
void UdpTransport::stop() { impl_->stop(); }
void UdpTransport::post(std::function<void()> fn) { impl_->post(std::move(fn)); }
proto::Time UdpTransport::now() const noexcept { return impl_->now(); }
UdpStats UdpTransport::stats() const noexcept { return impl_->stats(); }

}  // namespace carousel::net
