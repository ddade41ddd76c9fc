// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "status.hpp"

namespace carousel {

std::string_view to_string(Status::Code code) noexcept {
    switch (code) {
        case Status::Code::kOk:
            return "OK";
        case Status::Code::kNotFound:
            return "NotFound";
        case Status::Code::kCorruption:
            return "Corruption";
        case Status::Code::kNotSupported:
            return "NotSupported";
        case Status::Code::kInvalidArgument:
            return "InvalidArgument";
        case Status::Code::kIOError:
            return "IOError";
    }
    return "Unknown";
}

std::string Status::to_string() const {
    std::string s{carousel::to_string(code_)};
    if (!ok() && !message_.empty()) {
        s += ": ";
        s += message_;
    }
    return s;
}

}  // namespace carousel
