// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Status: the outcome of a storage operation (after leveldb's include/leveldb/status.h).
//
// A Status is either ok or carries a code and a human-readable message naming what went wrong
// (the path, the file, the column). Nothing in store/ throws across its interface: every failure
// comes back as a Status. It lives in core/ because the layers under store/ pass it on too: a
// trie::NodeStore read tells a failed read (its Status) from an absent node. Statuses are cheap to copy when ok or
// not-found without a message (no allocation), so `get` can return not-found on a hot path.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace carousel {

class [[nodiscard]] Status {
  public:
    enum class Code : uint8_t {
        kOk = 0,
        kNotFound,         // the key (or the database, when not creating one) does not exist
        kCorruption,       // stored data failed a check: checksum, format, a missing or garbled file
        kNotSupported,     // a database written by another format version of carousel
        kInvalidArgument,  // bad input: a path that is not a database, a foreign database, bad options
        kIOError,          // the operating system failed (permissions, disk full, lock held)
    };

    // An ok status.
    Status() noexcept = default;

    static Status not_found(std::string message = {}) { return {Code::kNotFound, std::move(message)}; }
    static Status corruption(std::string message) { return {Code::kCorruption, std::move(message)}; }
    static Status not_supported(std::string message) { return {Code::kNotSupported, std::move(message)}; }
    static Status invalid_argument(std::string message) { return {Code::kInvalidArgument, std::move(message)}; }
    static Status io_error(std::string message) { return {Code::kIOError, std::move(message)}; }

    [[nodiscard]] bool ok() const noexcept { return code_ == Code::kOk; }
    [[nodiscard]] bool is_not_found() const noexcept { return code_ == Code::kNotFound; }
    [[nodiscard]] bool is_corruption() const noexcept { return code_ == Code::kCorruption; }
    [[nodiscard]] bool is_not_supported() const noexcept { return code_ == Code::kNotSupported; }
    [[nodiscard]] bool is_invalid_argument() const noexcept { return code_ == Code::kInvalidArgument; }
    [[nodiscard]] bool is_io_error() const noexcept { return code_ == Code::kIOError; }

    [[nodiscard]] Code code() const noexcept { return code_; }
    // What went wrong, without the code's name; empty when ok.
    [[nodiscard]] const std::string& message() const noexcept { return message_; }
    // "OK", or the code's name and the message: "Corruption: /data/db: bad block checksum".
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const Status&, const Status&) = default;

  private:
    Status(Code code, std::string message) noexcept : code_{code}, message_{std::move(message)} {}

    Code code_{Code::kOk};
    std::string message_;
};

// The name of a code: "OK", "NotFound", "Corruption", "NotSupported", "InvalidArgument", "IOError".
std::string_view to_string(Status::Code code) noexcept;

}  // namespace carousel
