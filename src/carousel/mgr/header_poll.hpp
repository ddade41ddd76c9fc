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
//  - The caller picks the peer and sends; on_peer_gone() when the peer it asked is gone ends the
//    request (the next goes at once).
//  - Not thread-safe; no clock of its own.

#include <cstdint>
#include <optional>

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

  private:
    HeaderBook& book_;
    HeaderPollOptions options_;
    std::optional<proto::GetHeaders> outstanding_;
    proto::PeerId peer_{0};
    proto::Time sent_at_{0};
    proto::Time next_at_{0};
};

}  // namespace carousel::mgr
