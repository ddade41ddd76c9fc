// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "header_poll.hpp"

#include <algorithm>

namespace carousel::mgr {

HeaderPoll::HeaderPoll(HeaderBook& book, HeaderPollOptions options) : book_{book}, options_{options} {}

std::optional<proto::GetHeaders> HeaderPoll::request(uint64_t request_id, proto::Time now) {
    if (outstanding_ && now < sent_at_ + options_.timeout) return std::nullopt;
    if (!outstanding_ && now < next_at_) return std::nullopt;
    outstanding_.reset();  // timed out: given up
    proto::GetHeaders r{request_id, 0, 0};
    if (const auto latest = book_.latest()) {
        const uint64_t last = latest->number;
        const auto window = static_cast<uint64_t>(book_.capacity());
        uint64_t first = last + 1 >= window ? last + 1 - window : 0;
        while (first <= last && book_.root(first)) ++first;
        r.first = first;
        r.count = first <= last ? std::min<uint64_t>(proto::kMaxHeadersPerRequest, last - first + 1)
                                : proto::kMaxHeadersPerRequest;
    }
    outstanding_ = r;
    peer_ = 0;
    sent_at_ = now;
    next_at_ = now + options_.interval;
    return r;
}

std::optional<tl::expected<std::size_t, HeaderRejection>> HeaderPoll::on_answer(proto::PeerId from,
                                                                                const proto::Headers& answer,
                                                                                proto::Time now) {
    if (!outstanding_ || answer.request_id != outstanding_->request_id || (peer_ != 0 && from != peer_)) {
        return std::nullopt;
    }
    const proto::GetHeaders asked = *outstanding_;
    outstanding_.reset();
    auto taken = book_.accept_answer(asked, answer);
    // A full answer may have left more behind it: ask again at once.
    if (taken && asked.count > 0 && answer.headers.size() == asked.count) next_at_ = now;
    return taken;
}

void HeaderPoll::on_peer_gone(proto::PeerId peer, proto::Time now) {
    if (!outstanding_ || peer != peer_) return;
    outstanding_.reset();
    next_at_ = now;
}

bool HeaderPoll::pump(proto::Time now, const std::vector<proto::PeerId>& peers,
                      const std::function<bool(proto::PeerId, Bytes)>& send) {
    if (peers.empty()) return false;
    const auto r = request(next_request_id_, now);
    if (!r) return false;
    ++next_request_id_;
    const proto::PeerId peer = peers[next_peer_++ % peers.size()];
    sent_to(peer);
    (void)send(peer, proto::encode(*r));
    return true;
}

proto::Time HeaderPoll::next_deadline() const noexcept { return outstanding_ ? sent_at_ + options_.timeout : next_at_; }

}  // namespace carousel::mgr
