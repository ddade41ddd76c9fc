// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// Traffic counters the simulated drivers (LocalNet, SimGridNet) keep per node: frames or datagrams
// and their bytes, in total and by message type (the first byte).

#include <cstddef>
#include <cstdint>
#include <map>

#include <carousel/core/bytes.hpp>

namespace carousel::net {

// Frames and bytes, counted together.
struct Traffic {
    uint64_t frames{0};
    uint64_t bytes{0};

    void add(std::size_t frame_bytes) noexcept {
        ++frames;
        bytes += frame_bytes;
    }
    friend bool operator==(const Traffic&, const Traffic&) = default;
};

// Traffic in one direction, in total and by message type (a frame's first byte).
struct TrafficCounters {
    Traffic total;
    std::map<uint8_t, Traffic> by_type;

    void add(ByteView frame) {
        if (frame.empty()) {
            total.add(0);
        } else {
            add(frame[0], frame.size());
        }
    }
    // A frame of `size` bytes (at least one) whose first byte is `type`.
    void add(uint8_t type, std::size_t size) {
        total.add(size);
        by_type[type].add(size);
    }
    [[nodiscard]] Traffic of_type(uint8_t type) const {
        const auto it = by_type.find(type);
        return it == by_type.end() ? Traffic{} : it->second;
    }
    friend bool operator==(const TrafficCounters&, const TrafficCounters&) = default;
};

}  // namespace carousel::net
