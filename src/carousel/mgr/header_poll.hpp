// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// HeaderPoll: asks peers for the signed headers a HeaderBook lacks (GetHeaders; mgr/header_book.hpp),
// sans-IO. Gossip brings a block's header only with that block's items (mgr/gossip_router.hpp), so a
// node that restarts or joins, and a client, start with an empty or old book and ask for it.
//
// Contract:
//  - request(now) returns the GetHeaders to send now, or nullopt: at most one request is outstanding;
//    a request goes every `interval` (whether or not gossip brought headers meanwhile: one frame of a
//    few hundred bytes each way, and what makes a node whose items all come late still current),
//    at once after an answer that filled its range (there may be more); a request not answered
//    within `timeout` is given up.
//  - What is asked: with an empty book, the latest header only (count 0). With a latest header L,
//    the oldest number of the window [L + 1 - capacity, L] (clamped at 0) the book lacks, up to L, at
//    most kMaxHeadersPerRequest of them; with the window complete, the numbers after L.
//  - on_answer(answer) takes a Headers frame's message: one that answers the outstanding request
//    goes to HeaderBook::accept_answer (its result is returned: the caller strikes the sender of a
//    refusal); any other (late, unknown id) is ignored (nullopt), not an offence.
//  - pump(now, peers, send) is the usual way to ask: when request() has one due it numbers it (the
//    poll's own counter, from 1), sends it to the next of `peers` in turn (round robin over the
//    calls: the caller passes its current peers each time) and records that peer. A caller that
//    picks the peer itself uses request() and sent_to() instead, with ids of its own.
//  - on_peer_gone() when the peer asked is gone ends the request (the next goes at once).
//  - Not thread-safe; no clock of its own.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/proto/endpoint.hpp>
#include <carousel/proto/header_messages.hpp>

#include "header_book.hpp"

namespace carousel::mgr {

struct HeaderPollOptions {
    proto::Time interval{std::chrono::seconds{6}};  // half a block time: a missed gossip costs one
    proto::Time timeout{std::chrono::seconds{10}};
};

class HeaderPoll {
  public:
    // `book` outlives the poll.
    HeaderPoll(HeaderBook& book, HeaderPollOptions options = {});

    // The request to send now (see the contract); `request_id` names it on the wire.
    std::optional<proto::GetHeaders> request(uint64_t request_id, proto::Time now);
    // The peer asked (as the caller named it when it sent the request), while one is outstanding.
    void sent_to(proto::PeerId peer) noexcept { peer_ = peer; }
    std::optional<tl::expected<std::size_t, HeaderRejection>> on_answer(proto::PeerId from,
                                                                        const proto::Headers& answer, proto::Time now);
    void on_peer_gone(proto::PeerId peer, proto::Time now);
    // When request() may next return one.
    [[nodiscard]] proto::Time next_deadline() const noexcept;

    // Sends the request due now, if any, as a GetHeaders frame through `send` to the next of `peers`
    // in turn, recorded as sent there; true if a request was due and handed to `send`. With `peers`
    // empty nothing is asked (the request stays due). A `send` that returns false leaves the request
    // to its timeout: asking the next peer at once could spin at one instant while none takes it.
    bool pump(proto::Time now, const std::vector<proto::PeerId>& peers,
              const std::function<bool(proto::PeerId, Bytes)>& send);

  private:
    HeaderBook& book_;
    HeaderPollOptions options_;
    std::optional<proto::GetHeaders> outstanding_;
    proto::PeerId peer_{0};
    proto::Time sent_at_{0};
    proto::Time next_at_{0};
    uint64_t next_request_id_{1};  // pump()'s
    std::size_t next_peer_{0};     // pump()'s round robin
};

}  // namespace carousel::mgr
