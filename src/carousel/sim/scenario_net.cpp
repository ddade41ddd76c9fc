// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "scenario_net.hpp"

#include <utility>

#include <carousel/core/assert.hpp>
#include <carousel/net/local_net.hpp>
#include <carousel/net/simgrid_net.hpp>

namespace carousel::sim {

namespace {

// SimGrid's node index of member `id`.
std::size_t index_of(ScenarioNet::MemberId id) {
    CAROUSEL_ASSERT(id >= 1, "member ids start at 1");
    return static_cast<std::size_t>(id - 1);
}

double simgrid_rate(uint64_t bytes_per_second) {
    return bytes_per_second == 0 ? kSimGridUnlimited : static_cast<double>(bytes_per_second);
}

}  // namespace

const char* to_string(Engine engine) noexcept { return engine == Engine::kSimGrid ? "simgrid" : "localnet"; }

std::optional<Engine> engine_named(std::string_view name) noexcept {
    if (name == "localnet") return Engine::kLocalNet;
    if (name == "simgrid") return Engine::kSimGrid;
    return std::nullopt;
}

ScenarioNet::ScenarioNet(Engine engine, std::chrono::microseconds latency) : engine_{engine}, latency_{latency} {
    if (engine_ == Engine::kLocalNet) {
        local_ = std::make_unique<net::LocalNet>();
        local_->set_link_model([latency](proto::PeerId, proto::PeerId) { return net::LinkSettings{latency}; });
    } else {
        net::SimGridOptions options;
        options.config = {"network/latency-factor:1", "network/bandwidth-factor:1"};
        grid_ = std::make_unique<net::SimGridNet>(std::move(options));
    }
}

ScenarioNet::~ScenarioNet() = default;

proto::Address ScenarioNet::address_of(MemberId id) const {
    return local_ ? net::default_address(id) : net::SimGridNet::address_of(index_of(id));
}

ScenarioNet::MemberId ScenarioNet::add_member(proto::Endpoint& member, Link link) {
    if (local_) return local_->add(member, {link.up_bytes_per_second, link.down_bytes_per_second});
    net::SimNodeOptions options;
    options.link.up_bytes_per_second = simgrid_rate(link.up_bytes_per_second);
    options.link.down_bytes_per_second = simgrid_rate(link.down_bytes_per_second);
    options.link.latency = latency_ / 2;
    return static_cast<MemberId>(grid_->add_node(member, options) + 1);
}

void ScenarioNet::post(MemberId id, std::function<void()> fn, proto::Time at) {
    if (local_) {
        local_->post(id, std::move(fn), at);
    } else {
        grid_->schedule(index_of(id), at, std::move(fn));
    }
}

void ScenarioNet::run_until(proto::Time t) {
    if (local_) {
        local_->run_until(t);
    } else {
        grid_->run(t);
    }
}

proto::Time ScenarioNet::now() const { return local_ ? local_->now() : grid_->now(); }

void ScenarioNet::set_offline(MemberId id) {
    if (local_) {
        local_->set_online(id, false);
    } else {
        grid_->leave(index_of(id));
    }
}

bool ScenarioNet::online(MemberId id) const { return local_ ? local_->online(id) : grid_->online(index_of(id)); }

std::size_t ScenarioNet::peak_connections(MemberId id) const {
    return local_ ? local_->peak_connections(id) : grid_->counters(index_of(id)).peak_connections;
}

uint64_t ScenarioNet::received_bytes(MemberId id, uint8_t type) const {
    const net::TrafficCounters& received =
        local_ ? local_->metrics(id).received : grid_->counters(index_of(id)).frames_received;
    return received.of_type(type).bytes;
}

void ScenarioNet::set_frame_hook(FrameHook hook) {
    if (local_) {
        local_->set_frame_hook(std::move(hook));
        return;
    }
    if (!hook) {
        grid_->set_frame_hook({});
        return;
    }
    grid_->set_frame_hook([hook = std::move(hook)](std::size_t from, std::size_t to, Bytes& frame) {
        hook(static_cast<MemberId>(from + 1), static_cast<MemberId>(to + 1), frame);
    });
}

}  // namespace carousel::sim
