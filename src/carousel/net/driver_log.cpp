// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "driver_log.hpp"

#include <cstdio>

namespace carousel::net {

void log_line(const LogCallback& log, const std::string& line) {
    if (log) {
        log(line);
    } else {
        (void)std::fprintf(stderr, "[net] %s\n", line.c_str());
    }
}

void LogException::operator()(const std::exception_ptr& e) const {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        log_line(*log, what + " ended by an exception: " + x.what());
    } catch (...) {
        log_line(*log, what + " ended by an exception");
    }
}

}  // namespace carousel::net
