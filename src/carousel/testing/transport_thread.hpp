// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// A net::TcpTransport run on a thread of its own in a test, and calls onto that thread.
//
// - TransportThread runs the transport's run() from construction, and stops and joins it when it
//   goes (also when a test fails early), or at stop().
// - on_thread(t, fn) runs `fn` on t's thread and returns its result (fields the transport thread
//   owns are read this way); it throws if the thread does not answer within kTransportWait.
// - wait_until(t, pred) polls `pred` on t's thread until it holds (true) or the timeout passes
//   (false).
//
// Every wait is bounded: a stuck transport fails the test instead of hanging it. Test-only and
// header only: the net tests include it without linking the carousel_testing library.

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include <carousel/net/tcp_transport.hpp>

namespace carousel::testing {

inline constexpr std::chrono::seconds kTransportWait{5};

class TransportThread {
  public:
    explicit TransportThread(net::TcpTransport& t) : transport_{t}, thread_{[&t] { t.run(); }} {}
    ~TransportThread() { stop(); }
    TransportThread(const TransportThread&) = delete;
    TransportThread& operator=(const TransportThread&) = delete;
    void stop() {
        if (!thread_.joinable()) return;
        transport_.stop();
        thread_.join();
    }
    [[nodiscard]] std::thread::id id() const { return thread_.get_id(); }

  private:
    net::TcpTransport& transport_;
    std::thread thread_;
};

template <typename Fn>
auto on_thread(net::TcpTransport& t, Fn fn) {
    using R = decltype(fn());
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    t.post([promise, fn]() mutable { promise->set_value(fn()); });
    if (future.wait_for(kTransportWait) != std::future_status::ready) {
        throw std::runtime_error("transport thread is stuck");
    }
    return future.get();
}

template <typename Pred>
bool wait_until(net::TcpTransport& t, Pred pred, std::chrono::milliseconds timeout = kTransportWait) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (on_thread(t, pred)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds{2});
    }
    return false;
}

}  // namespace carousel::testing
