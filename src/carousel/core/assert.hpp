// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// CAROUSEL_ASSERT(cond, msg): an internal invariant that stays checked in every build, Release
// included (silkworm's SILKWORM_ASSERT). When `cond` is false it prints "file:line: assertion
// `cond` failed: msg" to stderr and calls std::abort(); it never returns then and never throws.
//
// For invariants of carousel's own code only, never for peer input (which is an error with a name:
// docs/DESIGN.md). `cond` is evaluated exactly once in every build, so it may not be left for the
// compiler to drop as with assert(): keep it cheap and free of side effects. `msg` is a string
// literal saying what the invariant means.

namespace carousel::detail {

// Prints the failed invariant to stderr and aborts the process.
[[noreturn]] void assertion_failed(const char* expr, const char* msg, const char* file, int line) noexcept;

}  // namespace carousel::detail

#define CAROUSEL_ASSERT(cond, msg)                                                \
    do {                                                                          \
        if (!(cond)) [[unlikely]] {                                               \
            ::carousel::detail::assertion_failed(#cond, msg, __FILE__, __LINE__); \
        }                                                                         \
    } while (false)
