// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// ScenarioNet: the one network interface a scenario drives, over either engine (issue 21):
// net::LocalNet (deterministic, discrete events) or net::SimGridNet (SimGrid's S4U, for networks far
// larger). The scenario adds its members, runs the clock in slices and, between slices, calls into
// members, makes members leave and reads their counters.
//
// Members: ids 1, 2, 3, ... in the order add_member() is called, on both engines (LocalNet's ids;
// SimGrid node id - 1). address_of(id) is the address member `id` has, or will have once added, so
// that a member's record can name it before it is added. Every member has an uplink and a downlink
// of its own (Link, bytes/s; 0: unlimited) and every pair is `latency` apart one way.
//
// On SimGrid (see net/simgrid_net.hpp): each member's access links get half the latency (a transfer
// crosses the sender's uplink and the receiver's downlink); 0 bytes/s ("unlimited") is
// kSimGridUnlimited; SimGrid's latency and bandwidth factors are set to 1, so the links carry their
// own figures, and its other defaults stay (LV08's bandwidth sharing, TCP-gamma's window bound).
// Members are added before the first run_until(). A member set offline leaves for good (LocalNet's
// offline node keeps its timers and may come back; no scenario brings one back).
//
// Not thread-safe. One SimGrid engine at a time per process (net/simgrid_net.hpp).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <carousel/core/bytes.hpp>
#include <carousel/proto/address.hpp>
#include <carousel/proto/endpoint.hpp>

namespace carousel::net {
class LocalNet;
class SimGridNet;
}  // namespace carousel::net

namespace carousel::sim {

enum class Engine : uint8_t { kLocalNet, kSimGrid };

// "localnet" or "simgrid", both ways (nullopt for any other name).
[[nodiscard]] const char* to_string(Engine engine) noexcept;
[[nodiscard]] std::optional<Engine> engine_named(std::string_view name) noexcept;

// Bytes per second SimGrid's links get for LocalNet's 0 (unlimited): 100 Gbit/s, a thousand times
// a 100 Mbit/s node, and small enough for SimGrid's solver precision.
inline constexpr double kSimGridUnlimited = 12.5e9;

class ScenarioNet {
  public:
    using MemberId = proto::PeerId;
    // Sees a frame member `from` sends to member `to`; may alter it or clear it (then dropped).
    using FrameHook = std::function<void(MemberId from, MemberId to, Bytes& frame)>;
    struct Link {
        uint64_t up_bytes_per_second{0};  // 0: unlimited
        uint64_t down_bytes_per_second{0};
    };

    ScenarioNet(Engine engine, std::chrono::microseconds latency);
    ~ScenarioNet();
    ScenarioNet(const ScenarioNet&) = delete;
    ScenarioNet& operator=(const ScenarioNet&) = delete;

    [[nodiscard]] Engine engine() const noexcept { return engine_; }
    [[nodiscard]] proto::Address address_of(MemberId id) const;
    // Adds `member` (which must outlive the net) and returns its id. On SimGrid, before the first
    // run_until() only.
    MemberId add_member(proto::Endpoint& member, Link link);

    // Calls `fn` as member `id`'s call at `at` (now() if earlier), then takes what it decided.
    void post(MemberId id, std::function<void()> fn, proto::Time at = proto::Time{0});
    // Runs the clock to `t` (no earlier than now()).
    void run_until(proto::Time t);
    // Inside a call, the time of the call; between slices, the last run_until()'s time.
    [[nodiscard]] proto::Time now() const;

    // Takes `id` off the network now: its connections close.
    void set_offline(MemberId id);
    [[nodiscard]] bool online(MemberId id) const;

    // The most connections `id` had open at once.
    [[nodiscard]] std::size_t peak_connections(MemberId id) const;
    // Bytes of the frames of message type `type` that `id` received.
    [[nodiscard]] uint64_t received_bytes(MemberId id, uint8_t type) const;

    // Replaces the frame hook (an empty function removes it); between slices.
    void set_frame_hook(FrameHook hook);

  private:
    Engine engine_;
    std::chrono::microseconds latency_;
    std::unique_ptr<net::LocalNet> local_;  // one of the two
    std::unique_ptr<net::SimGridNet> grid_;
};

}  // namespace carousel::sim
