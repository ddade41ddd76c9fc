// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace carousel::detail {

void assertion_failed(const char* expr, const char* msg, const char* file, int line) noexcept {
    // stdio, not iostreams: usable before static constructors run and while the heap is damaged.
    (void)std::fprintf(stderr, "%s:%d: assertion `%s` failed: %s\n", file, line, expr, msg);
    (void)std::fflush(stderr);
    std::abort();
}

}  // namespace carousel::detail
