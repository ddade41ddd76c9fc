// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "lookup.hpp"

#include <algorithm>

namespace carousel::dht {

Lookup::Lookup(const Hash& target, const std::vector<Contact>& seeds, std::size_t alpha, std::size_t k)
    : target_{target}, alpha_{std::max<std::size_t>(alpha, 1)}, k_{std::max<std::size_t>(k, 1)} {
    for (const Contact& c : seeds) add(c);
}

void Lookup::add(const Contact& c) {
    // Sorted insert; the first contact seen for an id wins (an answer cannot redirect a candidate
    // that is already known to another peer).
    const auto pos =
        std::lower_bound(candidates_.begin(), candidates_.end(), c.id,
                         [&](const Candidate& x, const NodeId& id) { return closer(target_, x.contact.id, id); });
    if (pos != candidates_.end() && pos->contact.id == c.id) return;
    candidates_.insert(pos, Candidate{c, State::kNew});
}

Lookup::Candidate* Lookup::find(const NodeId& id) {
    const auto pos =
        std::lower_bound(candidates_.begin(), candidates_.end(), id,
                         [&](const Candidate& x, const NodeId& i) { return closer(target_, x.contact.id, i); });
    return pos != candidates_.end() && pos->contact.id == id ? &*pos : nullptr;
}

bool Lookup::is_in_flight(const NodeId& id) const {
    return std::any_of(candidates_.begin(), candidates_.end(),
                       [&](const Candidate& c) { return c.contact.id == id && c.state == State::kInFlight; });
}

std::vector<Contact> Lookup::next_queries() {
    std::vector<Contact> out;
    std::size_t considered = 0;
    for (Candidate& c : candidates_) {
        if (in_flight_ >= alpha_ || considered >= k_) break;
        if (c.state == State::kFailed) continue;
        ++considered;
        if (c.state != State::kNew) continue;
        c.state = State::kInFlight;
        ++in_flight_;
        ++queried_;
        out.push_back(c.contact);
    }
    return out;
}

void Lookup::on_nodes(const NodeId& from, const std::vector<Contact>& contacts) {
    Candidate* c = find(from);
    if (c == nullptr || c->state != State::kInFlight) return;
    c->state = State::kAnswered;
    --in_flight_;
    for (const Contact& n : contacts) add(n);
}

void Lookup::on_failure(const NodeId& from) {
    Candidate* c = find(from);
    if (c == nullptr || c->state != State::kInFlight) return;
    c->state = State::kFailed;
    --in_flight_;
}

bool Lookup::done() const {
    std::size_t considered = 0;
    for (const Candidate& c : candidates_) {
        if (considered >= k_) break;
        if (c.state == State::kFailed) continue;
        ++considered;
        if (c.state != State::kAnswered) return false;
    }
    return true;
}

std::vector<Contact> Lookup::result() const {
    std::vector<Contact> out;
    for (const Candidate& c : candidates_) {
        if (out.size() >= k_) break;
        if (c.state == State::kAnswered) out.push_back(c.contact);
    }
    return out;
}

}  // namespace carousel::dht
