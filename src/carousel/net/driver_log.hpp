// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// What the network driver (TcpTransport) and its parts (UdpSocket) share about reporting: where a
// log line goes, the packet boundary (a call into the endpoint that throws is logged, never fatal),
// and the completion of a co_spawn'ed loop (an exception that escaped it is logged). All run on the
// driver's thread; none throws unless the log callback does.

#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace carousel::net {

// Where a driver's log lines go; empty: standard error, prefixed "[net] ".
using LogCallback = std::function<void(std::string_view)>;

void log_line(const LogCallback& log, const std::string& line);

// Runs `fn` (a call into the endpoint); if it throws, logs "endpoint threw from <what>: <message>"
// and returns false.
template <typename Fn>
bool guarded(const LogCallback& log, std::string_view what, Fn&& fn) {
    try {
        std::forward<Fn>(fn)();
        return true;
    } catch (const std::exception& e) {
        log_line(log, "endpoint threw from " + std::string{what} + ": " + e.what());
    } catch (...) {
        log_line(log, "endpoint threw from " + std::string{what});
    }
    return false;
}

// The completion handler of a co_spawn'ed loop: logs "<what> ended by an exception" if one escaped
// it (none should). `log` must outlive the loop.
struct LogException {
    const LogCallback* log;
    std::string what;
    void operator()(const std::exception_ptr& e) const;
};

}  // namespace carousel::net
