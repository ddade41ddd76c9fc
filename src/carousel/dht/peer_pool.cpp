// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "peer_pool.hpp"

#include <algorithm>
#include <vector>

namespace carousel::dht {

namespace {

constexpr proto::Time kForever = proto::Time::max();

}  // namespace

PeerPool::PeerPool(PeerPoolOptions options)
    : options_(options), next_id_(options.first_request_id), link_window_(options.link_window) {}

void PeerPool::add(proto::PeerId peer) { peers_.try_emplace(peer, Peer{0, options_.initial_window, {}, 0}); }

void PeerPool::remove(proto::PeerId peer) { peers_.erase(peer); }

bool PeerPool::has_room(proto::PeerId peer, proto::Time now) const {
    const auto it = peers_.find(peer);
    if (it == peers_.end() || !usable(peer, now)) return false;
    return it->second.in_flight < std::min(it->second.window, options_.max_window);
}

bool PeerPool::link_open(uint64_t reserve) const noexcept {
    if (in_flight_ >= options_.max_in_flight) return false;
    return options_.link_window == 0 || in_flight_ == 0 || reserved_ + reserve <= link_window_;
}

uint64_t PeerPool::next_budget() const noexcept {
    return std::clamp<uint64_t>(link_window_ / 4, options_.min_budget, options_.max_budget);
}

uint64_t PeerPool::small_reserve() const noexcept {
    // At least a quarter of a budget: a queue deadline counts the bytes reserved ahead of an answer,
    // and on a slow link an answer that outgrew the average must not time out behind many small
    // reservations.
    const uint64_t budget = next_budget();
    return std::clamp<uint64_t>(std::max(2 * small_answer_bytes_, budget / 4), 1024, budget);
}

double PeerPool::receive_rate(proto::Time now) const noexcept {
    double rate = static_cast<double>(std::max<uint64_t>(options_.min_rate, 1));
    if (first_request_ && now > *first_request_) {
        rate = std::max(
            rate, static_cast<double>(bytes_received_) / std::chrono::duration<double>(now - *first_request_).count());
    }
    return rate;
}

PeerPool::Ticket PeerPool::issue(uint64_t id, proto::PeerId peer, proto::Time now, uint64_t budget, bool small) {
    tick(now);
    if (!first_request_) first_request_ = now;
    Ticket t{id, peer, now, now + options_.request_timeout, budget, small ? small_reserve() : budget, small};
    if (options_.queue_deadlines) {
        // The budgets in flight must get through first: an answer may outgrow a small reservation,
        // and a late answer on a slow link must not be taken for a silent peer.
        const auto queue = std::chrono::duration<double>(static_cast<double>(budgets_ + budget) / receive_rate(now));
        t.deadline += std::chrono::duration_cast<proto::Time>(queue);
    }
    reserved_ += t.reserved;
    budgets_ += t.budget;
    ++in_flight_;
    if (!options_.require_connection) add(peer);
    if (auto it = peers_.find(peer); it != peers_.end()) ++it->second.in_flight;
    return t;
}

void PeerPool::touch(Ticket& t, proto::Time now) const {
    t.sent = now;
    t.deadline = now + options_.request_timeout;
}

void PeerPool::release(const Ticket& t) {
    if (auto it = peers_.find(t.peer); it != peers_.end() && it->second.in_flight > 0) --it->second.in_flight;
    if (in_flight_ > 0) --in_flight_;
    reserved_ -= std::min(reserved_, t.reserved);
    budgets_ -= std::min(budgets_, t.budget);
}

void PeerPool::answered(const Ticket& t, proto::Time now, uint64_t bytes) {
    tick(now);
    if (auto it = peers_.find(t.peer);
        it != peers_.end() && now - t.sent < options_.quick_answer && it->second.window < options_.max_window) {
        ++it->second.window;
    }
    release(t);
    if (t.small) small_answer_bytes_ = (7 * small_answer_bytes_ + bytes) / 8;
    if (options_.link_window != 0) {
        // Slow start, capped at what the link drains in queue_target: more only queues behind the
        // link (every answer, and the other traffic on it, which then times out).
        const auto drained =
            static_cast<uint64_t>(receive_rate(now) * std::chrono::duration<double>(options_.queue_target).count());
        const uint64_t cap = std::clamp(drained, options_.link_window, options_.max_link_window);
        link_window_ = std::min(cap, link_window_ + std::max<uint64_t>(bytes, 1024));
    }
}

void PeerPool::failed(const Ticket& t) { release(t); }

void PeerPool::timed_out(const Ticket& t) {
    if (auto it = peers_.find(t.peer); it != peers_.end()) {
        it->second.window = std::max(options_.min_window, it->second.window / 2);
    }
    release(t);
    if (options_.link_window != 0) link_window_ = std::max(options_.link_window / 4, link_window_ / 2);
}

void PeerPool::hedge(proto::PeerId peer) {
    if (auto it = peers_.find(peer); it != peers_.end()) it->second.window = options_.min_window;
}

void PeerPool::measure(proto::PeerId peer, proto::Time took) {
    const auto it = peers_.find(peer);
    if (it == peers_.end()) return;
    Peer& p = it->second;
    // A quarter of each new sample, the first one whole.
    p.rtt = p.rtt_samples == 0 ? took : (3 * p.rtt + took) / 4;
    ++p.rtt_samples;
    std::vector<proto::Time> measured;
    for (const auto& [_, q] : peers_) {
        if (q.rtt_samples > 0) measured.push_back(q.rtt);
    }
    const auto middle = measured.begin() + static_cast<std::ptrdiff_t>(measured.size() / 2);
    std::nth_element(measured.begin(), middle, measured.end());
    median_rtt_ = *middle;
    best_rtt_ = *std::min_element(measured.begin(), measured.end());
}

namespace {

proto::Time scaled(const PeerPoolOptions& o, proto::Time rtt) {
    const auto t = proto::Time{static_cast<int64_t>(o.rtt_scaling * static_cast<double>(rtt.count()))};
    return std::clamp(t, o.min_rtt_timeout, o.request_timeout);
}

}  // namespace

proto::Time PeerPool::rtt_timeout(proto::PeerId peer) const {
    const auto it = peers_.find(peer);
    if (it != peers_.end() && it->second.rtt_samples > 0) return scaled(options_, it->second.rtt);
    return scaled(options_, median_rtt_ > proto::Time{0} ? median_rtt_ : options_.initial_rtt);
}

std::optional<proto::Time> PeerPool::best_rtt_timeout() const {
    if (best_rtt_ == proto::Time{0}) return std::nullopt;
    return scaled(options_, best_rtt_);
}

PeerPool::Record& PeerPool::record(proto::PeerId peer) {
    Record& r = records_[peer];
    if (r.banned_until && *r.banned_until <= clock_) {
        r.banned_until.reset();
        r.standing = 0;
    }
    return r;
}

bool PeerPool::strike(proto::PeerId peer, int weight) {
    Record& r = record(peer);
    r.standing -= weight;
    if (r.standing > options_.ban_standing || r.banned_until) return false;
    if (options_.ban_time == proto::Time{0}) {
        r.banned_until = kForever;
    } else {
        // Each ban lasts twice the one before (at most 2^16 times ban_time).
        const auto factor = int64_t{1} << std::min(r.bans, 16U);
        const proto::Time length = options_.ban_time * factor;
        r.banned_until = clock_ > kForever - length ? kForever : clock_ + length;
    }
    ++r.bans;
    return true;
}

void PeerPool::reward(proto::PeerId peer) {
    Record& r = record(peer);
    r.standing = std::min(r.standing + 1, options_.max_standing);
}

int PeerPool::standing(proto::PeerId peer) const {
    const auto it = records_.find(peer);
    if (it == records_.end()) return 0;
    if (it->second.banned_until && *it->second.banned_until <= clock_) return 0;
    return it->second.standing;
}

bool PeerPool::banned(proto::PeerId peer) const {
    const auto it = records_.find(peer);
    return it != records_.end() && it->second.banned_until && clock_ < *it->second.banned_until;
}

unsigned PeerPool::bans(proto::PeerId peer) const {
    const auto it = records_.find(peer);
    return it == records_.end() ? 0 : it->second.bans;
}

bool PeerPool::carry_standing(proto::PeerId previous, proto::PeerId peer) {
    if (previous == peer) return false;
    const auto it = records_.find(previous);
    if (it == records_.end()) return false;
    Record before = it->second;
    records_.erase(it);
    if (before.banned_until && *before.banned_until <= clock_) {
        before.banned_until.reset();
        before.standing = 0;
    }
    Record& r = record(peer);
    r.standing = std::min(r.standing + before.standing, options_.max_standing);
    r.bans += before.bans;
    if (before.banned_until && (!r.banned_until || *r.banned_until < *before.banned_until)) {
        r.banned_until = before.banned_until;
    }
    r.paused_until = std::max(r.paused_until, before.paused_until);
    return strike(peer, 0);
}

void PeerPool::pause(proto::PeerId peer, proto::Time until) { record(peer).paused_until = until; }

bool PeerPool::paused(proto::PeerId peer, proto::Time now) const {
    const auto it = records_.find(peer);
    return it != records_.end() && now < it->second.paused_until;
}

std::optional<proto::Time> PeerPool::next_resume() const {
    std::optional<proto::Time> next;
    for (const auto& [peer, _] : peers_) {
        const auto it = records_.find(peer);
        if (it == records_.end() || it->second.paused_until == proto::Time{0}) continue;
        if (!next || it->second.paused_until < *next) next = it->second.paused_until;
    }
    return next;
}

void PeerPool::clear_pauses(proto::Time now) {
    tick(now);
    for (auto& [_, r] : records_) {
        if (r.paused_until <= now) r.paused_until = proto::Time{0};
    }
}

bool PeerPool::usable(proto::PeerId peer, proto::Time now) const {
    if (options_.require_connection && !connected(peer)) return false;
    const auto it = records_.find(peer);
    if (it == records_.end()) return true;
    return !(it->second.banned_until && now < *it->second.banned_until) && now >= it->second.paused_until;
}

PeerPool::Choice PeerPool::choose(std::span<const Contact> candidates, proto::Time now,
                                  const std::set<proto::PeerId>& avoid) const {
    Choice out;
    std::size_t best_load = 0;
    bool best_avoided = true;
    for (const Contact& c : candidates) {
        if (!usable(c.peer, now)) continue;
        out.usable = true;
        const auto it = peers_.find(c.peer);
        const std::size_t load = it == peers_.end() ? 0 : it->second.in_flight;
        const std::size_t window = it == peers_.end() ? options_.initial_window : it->second.window;
        if (load >= std::min(window, options_.max_window)) continue;
        const bool avoided = avoid.contains(c.peer);
        if (!out.peer || (best_avoided && !avoided) || (avoided == best_avoided && load < best_load)) {
            out.peer = c.peer;
            best_load = load;
            best_avoided = avoided;
        }
    }
    return out;
}

}  // namespace carousel::dht
