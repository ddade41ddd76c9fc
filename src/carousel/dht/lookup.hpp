// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The iterative Kademlia lookup (Maymounkov and Mazières 2002, section 2.3) as a state machine with
// no IO: the caller sends the queries it hands out and feeds back the answers and failures.
//
// Contract:
//  - The candidates are every contact seen so far (seeds and contacts from answers), one per id,
//    ordered by XOR distance to the target. Each is new, in flight, answered or failed.
//  - next_queries() hands out the closest new candidates among the k closest candidates that have
//    not failed, so that at most `alpha` are in flight, and marks them in flight. A caller asks after
//    every on_nodes()/on_failure() (and once at the start).
//  - on_nodes(from, contacts) marks `from` answered and adds the contacts it returned; on_failure
//    marks it failed (a timeout, a disconnect, a bad answer). Answers from ids that are not in flight
//    are ignored, so a late answer after a failure changes nothing.
//  - done() once the k closest candidates that have not failed have all answered (or there is no
//    candidate left to ask). Queries still in flight to candidates outside those k do not hold it up;
//    their answers are ignored by then.
//  - result(): the (up to) k closest candidates that answered, closest first.
//  - The lookup does not know the own id: the caller leaves it out of the seeds and the contacts.
//  - Deterministic: the same calls give the same queries.

#include <cstddef>
#include <vector>

#include "contact.hpp"
#include "node_id.hpp"

namespace carousel::dht {

class Lookup {
  public:
    // `alpha` (>= 1) queries in flight at most; `k` (>= 1) nodes wanted.
    Lookup(const Hash& target, const std::vector<Contact>& seeds, std::size_t alpha = 3, std::size_t k = 16);

    [[nodiscard]] const Hash& target() const noexcept { return target_; }

    // The next contacts to query (possibly none), now counted as in flight.
    std::vector<Contact> next_queries();

    // `from` answered with `contacts`.
    void on_nodes(const NodeId& from, const std::vector<Contact>& contacts);
    // A query to `from` failed.
    void on_failure(const NodeId& from);

    [[nodiscard]] bool done() const;
    // The k closest candidates that answered, closest first.
    [[nodiscard]] std::vector<Contact> result() const;

    // Queries in flight (including those to candidates no longer among the k closest).
    [[nodiscard]] std::size_t in_flight() const noexcept { return in_flight_; }
    // Whether a query to `id` is in flight.
    [[nodiscard]] bool is_in_flight(const NodeId& id) const;
    // Queries handed out so far.
    [[nodiscard]] std::size_t queried() const noexcept { return queried_; }

  private:
    enum class State : uint8_t { kNew, kInFlight, kAnswered, kFailed };
    struct Candidate {
        Contact contact;
        State state{State::kNew};
    };

    void add(const Contact& c);
    Candidate* find(const NodeId& id);

    Hash target_;
    std::size_t alpha_;
    std::size_t k_;
    std::vector<Candidate> candidates_;  // closest to the target first, one per id
    std::size_t in_flight_{0};
    std::size_t queried_{0};
};

}  // namespace carousel::dht
