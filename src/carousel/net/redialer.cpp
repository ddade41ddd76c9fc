// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "redialer.hpp"

#include <algorithm>

namespace carousel::net {

Redialer::Redialer(TcpTransport& transport, std::vector<Target> targets, Connected connected, Closed closed, Log log,
                   RedialOptions options)
    : transport_{transport},
      targets_{std::move(targets)},
      connected_{std::move(connected)},
      closed_{std::move(closed)},
      log_{std::move(log)},
      options_{options} {}

void Redialer::start() {
    const proto::Time now = transport_.now();
    for (auto& t : targets_) t.reached_at = now;
    for (std::size_t i = 0; i < targets_.size(); ++i) dial(i);
}

void Redialer::tick() {
    const proto::Time now = transport_.now();
    for (std::size_t i = 0; i < targets_.size(); ++i) {
        const Target& t = targets_[i];
        if (!t.given_up && !t.peer && !t.dialling && t.dial_at && *t.dial_at <= now) dial(i);
    }
}

void Redialer::dial(std::size_t index) {
    targets_[index].dialling = true;
    targets_[index].dial_at.reset();
    transport_.connect_async(
        targets_[index].host, targets_[index].port,
        [this, index](tl::expected<proto::PeerId, std::string> result) { dialled(index, std::move(result)); });
}

void Redialer::dialled(std::size_t index, tl::expected<proto::PeerId, std::string> result) {
    Target& t = targets_[index];
    t.dialling = false;
    if (!result) {
        failed(t, result.error());
        return;
    }
    const proto::PeerId peer = *result;
    if (closed_early_.erase(peer) != 0) {  // closed before this report (the endpoint failed on it)
        failed(t, "closed as it connected");
        return;
    }
    t.peer = peer;
    ++t.connections;
    t.reached_before = t.reached_at;
    t.reached_at = transport_.now();
    if (t.connections > 1) log_(t.address() + ": connected again");
    const std::optional<proto::PeerId> previous = t.previous;
    // After the endpoint's on_connect, and drained as any call into it; skipped if the connection
    // closed meanwhile.
    transport_.post([this, index, peer, previous] {
        if (targets_[index].peer == peer) connected_(targets_[index], peer, previous);
    });
}

void Redialer::failed(Target& t, std::string reason) {
    ++t.failures;
    const auto shift = std::min(t.failures - 1, 16);
    const auto back_off = std::min(options_.first_back_off * (int64_t{1} << shift), options_.max_back_off);
    t.dial_at = transport_.now() + std::chrono::duration_cast<proto::Time>(back_off);
    if (reason != t.gone) {
        log_(t.address() + ": " + reason + "; dialling again in " + std::to_string(back_off.count()) +
             " ms, doubling up to " + std::to_string(options_.max_back_off.count()) + " ms");
    }
    t.gone = std::move(reason);
}

void Redialer::on_close(proto::PeerId peer, const std::string& reason, bool violation) {
    const auto it = std::find_if(targets_.begin(), targets_.end(), [&](const Target& t) { return t.peer == peer; });
    if (it == targets_.end()) {
        // A connection to us, not one we dialled; or one of ours whose connect_async report has
        // not run yet (it closed inside the endpoint's on_connect): remembered for that report.
        if (std::any_of(targets_.begin(), targets_.end(), [](const Target& t) { return t.dialling; })) {
            closed_early_.insert(peer);
        }
        return;
    }
    const std::size_t index = static_cast<std::size_t>(it - targets_.begin());
    it->peer.reset();
    it->previous = peer;
    it->gone = reason;
    // Judged after the endpoint's on_disconnect (posted before this), through post like any call into it.
    transport_.post([this, index, peer, reason, violation] {
        Target& t = targets_[index];
        const Verdict v = closed_(t, peer, reason, violation);
        if (v.useful) {
            t.failures = 0;
            t.reached_at = transport_.now();
        } else {
            t.reached_at = t.reached_before;  // connected, but it did not reach anything
        }
        if (v.give_up) {
            t.given_up = true;
            log_(t.address() + ": given up (" + reason + ")");
            return;
        }
        t.gone.clear();  // logged again by failed()
        failed(t, reason);
    });
}

std::size_t Redialer::connected() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(targets_.begin(), targets_.end(), [](const Target& t) { return t.peer.has_value(); }));
}

bool Redialer::all_given_up() const noexcept {
    return std::all_of(targets_.begin(), targets_.end(), [](const Target& t) { return t.given_up; });
}

proto::Time Redialer::unreached_for() const {
    if (connected() > 0) return proto::Time{0};
    proto::Time last{0};
    for (const auto& t : targets_) last = std::max(last, t.reached_at);
    return transport_.now() - last;
}

}  // namespace carousel::net
