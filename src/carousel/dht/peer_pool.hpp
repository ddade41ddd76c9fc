// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// PeerPool: the peers a syncing client asks, and its requests to them, kept once for every sync
// (PrefixSync, MgrSync and Merry-Go-Round's RegionFill use it; the fill with require_connection off,
// ban_standing -1, a fixed window and queue_deadlines with every budget max_response_bytes). Sans-IO: it sends nothing
// and reads no clock; every call that needs the time is given it, and its clock is the latest time it was given (times
// never go back).
//
// What it keeps, and the contract of each part:
//  - Request ids: next_id() hands out ids from `first_request_id` on, each once. A request is a
//    Ticket (id, peer, when sent, deadline, byte budget, bytes reserved); the caller keeps the
//    ticket with what the request was for, and gives it back exactly once: answered(), failed() or
//    timed_out(). The pool holds no request of its own, so the caller's table is the only one.
//  - Window, per peer: the requests it may have in flight. It starts at initial_window, grows by one
//    for each answer that came within `quick_answer` of its request (up to max_window), halves at a
//    timeout and falls to min_window when the caller gives up waiting (hedge()), never below
//    min_window. A peer whose answers come slowly thus never has more queued than it answers in
//    time, and a fast one gets a deep pipeline. (go-ethereum's p2p/msgrate sizes requests by a
//    measured items-per-second capacity instead; carousel's requests have a byte budget each, and a
//    window of requests with the shared byte window below keeps the answers inside it.)
//  - Round trip, per peer: a moving average of the time its answers took (a quarter of each new
//    sample, the first whole; late answers count too), and the median and least of the connected
//    measured peers', as msgrate keeps them. rtt_timeout(peer) = rtt_scaling times its estimate (the
//    median for a peer not measured yet, initial_rtt when none is), within [min_rtt_timeout,
//    request_timeout]: past it a caller may ask someone else as well (hedging).
//  - The link, shared by every peer (optional, link_window > 0): a window of bytes in flight, each
//    request holding `reserved` bytes of it. It grows by each answer's size (slow start), capped at
//    what the link drains in queue_target at the receive rate, and halves at a timeout.
//    next_budget() is a quarter of it within [min_budget, max_budget]; small_reserve() is what a
//    request whose answer is as large as what changed reserves: twice a moving average of such
//    answers, at least a quarter of a budget.
//  - Deadlines: request_timeout after sending, plus, with queue_deadlines, the time the budgets of
//    all requests in flight and this one's take at the receive rate (the bytes received, see
//    received(), over the time since the first request; at least min_rate): a slow link is then not
//    taken for silent peers.
//  - Standing, per peer, kept across its connections: strike() lowers it by a weight, reward() raises
//    it by one up to max_standing. At ban_standing or below the peer is banned: for good when
//    ban_time is zero, else for ban_time, doubled for each ban before; when a ban ends the peer
//    comes back with standing zero. A peer may also be paused (pause()): not asked until a time.
//  - Choosing: choose() takes the peers that cover what is to be asked (the caller knows coverage:
//    the routing table, lookup results, its neighbours) and returns the usable one with the fewest
//    requests in flight among those below their window, one not in `avoid` when there is one; the
//    first of equals. Usable: not banned, not paused, connected (when require_connection); Choice
//    says whether any candidate was usable, busy or not (a caller tells "none serves this" from
//    "all busy").

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>

#include <carousel/proto/endpoint.hpp>

#include "contact.hpp"

namespace carousel::dht {

struct PeerPoolOptions {
    uint64_t first_request_id{1};
    // Per-peer window (requests in flight).
    std::size_t initial_window{4};
    std::size_t min_window{1};
    std::size_t max_window{16};
    proto::Time quick_answer{std::chrono::milliseconds{2500}};
    // Requests in flight over all peers.
    std::size_t max_in_flight{std::numeric_limits<std::size_t>::max()};
    // Deadlines.
    proto::Time request_timeout{std::chrono::seconds{5}};
    bool queue_deadlines{false};
    uint64_t min_rate{1024};  // bytes per second assumed at least
    // Round trip.
    double rtt_scaling{3};
    proto::Time min_rtt_timeout{std::chrono::milliseconds{500}};
    proto::Time initial_rtt{std::chrono::milliseconds{250}};
    // The link's byte window (0: none).
    uint64_t link_window{0};
    uint64_t max_link_window{uint64_t{16} * 1024 * 1024};
    proto::Time queue_target{std::chrono::seconds{2}};
    uint64_t min_budget{uint64_t{16} * 1024};
    uint64_t max_budget{uint64_t{256} * 1024};
    // Standing.
    int ban_standing{-2};
    int max_standing{8};
    proto::Time ban_time{0};  // 0: a ban is for good
    // choose() only picks peers that are connected (add()); off: any peer the caller names, known
    // (with a window) once a request went to it.
    bool require_connection{true};
};

class PeerPool {
  public:
    struct Ticket {
        uint64_t id{0};
        proto::PeerId peer{0};
        proto::Time sent{0};
        proto::Time deadline{0};
        uint64_t budget{0};    // bytes the answer may bring (for queue deadlines)
        uint64_t reserved{0};  // bytes it holds of the link window
        bool small{false};     // its answer is as large as what changed (see small_reserve())
    };
    // A connected peer.
    struct Peer {
        std::size_t in_flight{0};
        std::size_t window{0};
        proto::Time rtt{0};  // round-trip estimate (valid when rtt_samples > 0)
        uint64_t rtt_samples{0};
    };
    struct Choice {
        std::optional<proto::PeerId> peer;
        bool usable{false};  // some candidate was usable (maybe only busy)
    };

    explicit PeerPool(PeerPoolOptions options = {});

    const PeerPoolOptions& options() const noexcept { return options_; }
    // The latest time any call gave the pool.
    proto::Time clock() const noexcept { return clock_; }

    // Connections. add() of a connected peer does nothing; remove() forgets its window, in-flight
    // count and round trip (its tickets must be failed by the caller), and keeps its standing.
    void add(proto::PeerId peer);
    void remove(proto::PeerId peer);
    bool connected(proto::PeerId peer) const { return peers_.contains(peer); }
    const std::map<proto::PeerId, Peer>& peers() const noexcept { return peers_; }

    // Requests.
    // Whether `peer` (connected) may have one more request in flight now: below its window (and
    // max_window), not paused, not banned.
    bool has_room(proto::PeerId peer, proto::Time now) const;
    // Whether one more request reserving `reserve` bytes fits: below max_in_flight, and inside the
    // link window (always when nothing is in flight).
    bool link_open(uint64_t reserve) const noexcept;
    bool link_open() const noexcept { return link_open(next_budget()); }
    uint64_t next_budget() const noexcept;
    uint64_t small_reserve() const noexcept;
    // A request id not handed out before (from first_request_id on).
    uint64_t next_id() noexcept { return next_id_++; }
    // Request `id` to `peer` goes out now: it holds a slot of the peer's window (when connected) and
    // `reserved` bytes of the link window (`small`: small_reserve(), else its budget); its deadline
    // is set. A stream that goes on answering an id the caller took back is issued again with it.
    Ticket issue(uint64_t id, proto::PeerId peer, proto::Time now, uint64_t budget = 0, bool small = false);
    // `t`'s peer is still answering it (a frame of a stream): its clock starts again at `now`.
    void touch(Ticket& t, proto::Time now) const;
    // Bytes received from anyone (every frame): the receive rate of queue deadlines and the link.
    void received(uint64_t bytes) noexcept { bytes_received_ += bytes; }
    // The answer came (`bytes` long): frees its slot; a quick answer grows the peer's window; the
    // link window grows by `bytes` (at least 1 KB) up to its cap; a small answer updates the average.
    void answered(const Ticket& t, proto::Time now, uint64_t bytes);
    // The request is over without a usable answer, or its answer is not measured: frees its slot.
    void failed(const Ticket& t);
    // The request passed its deadline: frees its slot, halves the peer's window and the link window.
    void timed_out(const Ticket& t);
    // The caller gave up waiting for `peer` (its request still holds the slot): window to min_window.
    void hedge(proto::PeerId peer);
    std::size_t in_flight() const noexcept { return in_flight_; }

    // Round trip.
    void measure(proto::PeerId peer, proto::Time took);
    proto::Time rtt_timeout(proto::PeerId peer) const;
    // rtt_timeout of the fastest measured peer (nullopt: none measured).
    std::optional<proto::Time> best_rtt_timeout() const;

    // Standing.
    // Lowers `peer`'s standing by `weight` (0: only checks it); true when this bans it.
    bool strike(proto::PeerId peer, int weight = 1);
    void reward(proto::PeerId peer);
    int standing(proto::PeerId peer) const;
    bool banned(proto::PeerId peer) const;
    // Bans so far (expired ones included).
    unsigned bans(proto::PeerId peer) const;
    // `peer` is the same peer as `previous` (a new connection): it takes previous's standing, added
    // to its own (up to max_standing), and previous is forgotten. True when that bans it.
    bool carry_standing(proto::PeerId previous, proto::PeerId peer);
    void pause(proto::PeerId peer, proto::Time until);
    bool paused(proto::PeerId peer, proto::Time now) const;
    // The earliest end of a pause of a connected peer not cleared yet (clear_pauses()).
    std::optional<proto::Time> next_resume() const;
    void clear_pauses(proto::Time now);

    // Choosing.
    bool usable(proto::PeerId peer, proto::Time now) const;
    Choice choose(std::span<const Contact> candidates, proto::Time now,
                  const std::set<proto::PeerId>& avoid = {}) const;

  private:
    struct Record {
        int standing{0};
        unsigned bans{0};
        std::optional<proto::Time> banned_until;  // Time::max(): for good
        proto::Time paused_until{0};
    };
    void tick(proto::Time now) noexcept { clock_ = std::max(clock_, now); }
    double receive_rate(proto::Time now) const noexcept;
    void release(const Ticket& t);
    // Ends a ban that expired (standing back to zero).
    Record& record(proto::PeerId peer);

    PeerPoolOptions options_;
    proto::Time clock_{0};
    uint64_t next_id_;
    std::map<proto::PeerId, Peer> peers_;
    std::map<proto::PeerId, Record> records_;
    std::size_t in_flight_{0};
    proto::Time median_rtt_{0};
    proto::Time best_rtt_{0};
    uint64_t bytes_received_{0};
    std::optional<proto::Time> first_request_;
    uint64_t link_window_;
    uint64_t reserved_{0};
    uint64_t budgets_{0};
    uint64_t small_answer_bytes_{4096};
};

}  // namespace carousel::dht
