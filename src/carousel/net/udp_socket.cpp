// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "udp_socket.hpp"

// As in tcp_transport.cpp: Asio 1.74's scheduler trips g++ 12's -Wnull-dereference once inlined.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <array>
#include <chrono>
#include <deque>
#include <optional>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

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

class UdpSocket::Impl {
  public:
    Impl(asio::io_context& ioc, std::size_t max_queued_datagrams, LogCallback log, Receive receive)
        : ioc_{ioc},
          max_queued_{max_queued_datagrams},
          log_{std::move(log)},
          receive_{std::move(receive)},
          pause_timer_{ioc} {}

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

    tl::expected<uint16_t, std::string> bind(const std::string& host, uint16_t port) {
        if (closed_) return tl::unexpected(std::string{"transport stopped"});
        if (bound_.exchange(true)) return tl::unexpected(std::string{"already bound"});
        auto result = open_socket(host, port);
        // A failed bind() may be tried again.
        if (!result) bound_ = false;
        return result;
    }

    void send(proto::OutgoingDatagram out) {
        if (closed_) return;
        if (out.datagram.empty() || out.datagram.size() > kMaxDatagramSize) {
            sends_out_of_bounds_.fetch_add(1, std::memory_order_relaxed);
            log("dropped a datagram of " + std::to_string(out.datagram.size()) + " bytes for " +
                proto::to_string(out.to) + ": outside 1.." + std::to_string(kMaxDatagramSize));
            return;
        }
        if (queue_.size() >= max_queued_) {
            sends_queue_full_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        queue_.push_back(std::move(out));
        start_sending();
    }

    void close() {
        closed_ = true;
        if (socket_) {
            error_code ec;
            socket_->close(ec);
        }
        // The datagram being sent, if any, stays until its handler has seen the cancellation.
        while (queue_.size() > (sending_ ? 1 : 0)) queue_.pop_back();
        pause_timer_.cancel();
    }

  private:
    // Opens and binds the socket on the calling thread, then hands it to the driver's thread.
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
            if (closed_) {
                error_code ignored;
                socket->close(ignored);
                return;
            }
            socket_ = socket;
            log("bound to udp " + proto::to_string(to_address(bound)));
            receive();
            start_sending();
        });
        return bound.port();
    }

    void log(const std::string& line) const { log_line(log_, line); }

    // Every socket operation below completes into a handler instead of a coroutine: the coroutines
    // of Asio 1.74 (use_awaitable) do not assemble under clang 14 with UBSan's function check, as
    // the fuzzers are built ("Cannot represent a difference across sections").

    // One receive at a time, into one buffer. One byte more than the bound shows a datagram over it:
    // the kernel truncates it to the buffer, and a full buffer is one too many.
    void receive() {
        socket_->async_receive_from(asio::buffer(receive_buffer_), from_,
                                    [this](const error_code& ec, std::size_t n) { on_received(ec, n); });
    }

    void on_received(const error_code& ec, std::size_t n) {
        if (closed_ || ec == asio::error::operation_aborted) return;
        if (ec) {
            receive_errors_.fetch_add(1, std::memory_order_relaxed);
            // An ICMP error about an earlier send (where peers had the endpoint reply), where the
            // system reports it on an unconnected socket: no fault of this socket's.
            if (ec == asio::error::connection_refused || ec == asio::error::connection_reset) {
                receive();
                return;
            }
            // Anything else (out of memory, say): say so and pause instead of spinning.
            log("receive failed: " + ec.message());
            pause_timer_.expires_after(std::chrono::milliseconds{50});
            pause_timer_.async_wait([this](const error_code& e) {
                if (!e && !closed_) receive();
            });
            return;
        }
        if (n == 0) {
            received_empty_.fetch_add(1, std::memory_order_relaxed);
        } else if (n > kMaxDatagramSize) {
            received_oversize_.fetch_add(1, std::memory_order_relaxed);
        } else {
            datagrams_received_.fetch_add(1, std::memory_order_relaxed);
            bytes_received_.fetch_add(n, std::memory_order_relaxed);
            receive_(to_address(from_), ByteView{receive_buffer_.data(), n});
        }
        // The driver may have closed the socket from inside receive_ (an endpoint that stops it).
        if (!closed_) receive();
    }

    void start_sending() {
        if (!sending_) send_next();
    }

    // One send at a time, in order. A datagram the socket refuses is counted and dropped.
    void send_next() {
        sending_ = !closed_ && socket_ && !queue_.empty();
        if (!sending_) return;
        // The front stays in place (and deque::push_back keeps it valid) until its handler runs.
        const proto::OutgoingDatagram& out = queue_.front();
        socket_->async_send_to(asio::buffer(out.datagram.data(), out.datagram.size()), to_endpoint(out.to),
                               [this](const error_code& ec, std::size_t n) { on_sent(ec, n); });
    }

    void on_sent(const error_code& ec, std::size_t n) {
        if (closed_) {
            queue_.clear();
            sending_ = false;
            return;
        }
        const proto::OutgoingDatagram& out = queue_.front();
        if (ec || n != out.datagram.size()) {
            send_errors_.fetch_add(1, std::memory_order_relaxed);
            log_send_error(
                out.to,
                ec ? ec.message() : "sent " + std::to_string(n) + " bytes of " + std::to_string(out.datagram.size()));
        } else {
            datagrams_sent_.fetch_add(1, std::memory_order_relaxed);
            bytes_sent_.fetch_add(n, std::memory_order_relaxed);
        }
        queue_.pop_front();
        send_next();
    }

    // At most one line a second: peers choose where the endpoint replies, and so what fails.
    void log_send_error(const proto::Address& to, const std::string& why) {
        const auto t = std::chrono::steady_clock::now();
        if (last_send_error_log_ && t - *last_send_error_log_ < std::chrono::seconds{1}) return;
        last_send_error_log_ = t;
        log("send to " + proto::to_string(to) + " failed: " + why + " (" +
            std::to_string(send_errors_.load(std::memory_order_relaxed)) + " send errors so far)");
    }

    asio::io_context& ioc_;
    const std::size_t max_queued_;
    const LogCallback log_;
    const Receive receive_;
    asio::steady_timer pause_timer_;  // after a receive error
    std::shared_ptr<udp::socket> socket_;
    std::array<uint8_t, kMaxDatagramSize + 1> receive_buffer_{};
    udp::endpoint from_;                         // the source of the datagram in receive_buffer_
    std::deque<proto::OutgoingDatagram> queue_;  // front: being sent
    std::optional<std::chrono::steady_clock::time_point> last_send_error_log_;
    std::atomic<bool> closed_{false};  // set on the driver's thread, read by bind() too
    std::atomic<bool> bound_{false};   // bind() succeeded or is under way
    bool sending_{false};              // a send is in flight (driver's thread only)
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

UdpSocket::UdpSocket(asio::io_context& ioc, std::size_t max_queued_datagrams, LogCallback log, Receive receive)
    : impl_{std::make_unique<Impl>(ioc, max_queued_datagrams, std::move(log), std::move(receive))} {}

UdpSocket::~UdpSocket() = default;

tl::expected<uint16_t, std::string> UdpSocket::bind(const std::string& host, uint16_t port) {
    return impl_->bind(host, port);
}

void UdpSocket::send(proto::OutgoingDatagram datagram) { impl_->send(std::move(datagram)); }
void UdpSocket::close() { impl_->close(); }
UdpStats UdpSocket::stats() const noexcept { return impl_->stats(); }

}  // namespace carousel::net
