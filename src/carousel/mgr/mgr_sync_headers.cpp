// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// MgrSync's headers from the network (take_headers): the poll of the table's contacts (HeaderPoll),
// their Headers answers into the book, GetHeaders answered from it; and book_chain, the ChainView over
// a book.
#include <string>
#include <vector>

#include "mgr_sync.hpp"

namespace carousel::mgr {

ChainView book_chain(const HeaderBook& book) {
    return ChainView{[&book] {
                         const auto latest = book.latest();
                         return latest ? latest->number : uint64_t{0};
                     },
                     book.source()};
}

void MgrSync::take_headers(HeaderBook& book, HeaderPollOptions poll) {
    book_ = &book;
    header_poll_.emplace(book, poll);
}

void MgrSync::poll_headers(proto::Time now) {
    if (!header_poll_ || now < header_poll_->next_deadline()) return;
    // Every contact of the table in turn, as a node asks (MgrNode::poll_headers): any node that follows
    // the chain holds its headers. Banned nodes are skipped.
    std::vector<proto::PeerId> peers = table_handles();
    std::erase_if(peers, [this](proto::PeerId peer) { return pool_.banned(peer); });
    header_poll_->pump(now, peers, [this](proto::PeerId peer, Bytes frame) { return send(peer, std::move(frame)); });
}

void MgrSync::on_headers(proto::PeerId from, ByteView frame, proto::Time now) {
    auto answer = proto::decode_headers(frame);
    if (!answer) {
        disconnect(from, "mgr sync: bad Headers: " + std::string{proto::to_string(answer.error())});
        return;
    }
    if (!header_poll_) return;  // asked nothing
    const auto taken = header_poll_->on_answer(from, *answer, now);
    if (!taken) return;  // not the answer awaited (late, another id): ignored
    if (!*taken) {
        ++stats_.headers_rejected;
        strike(from);
        return;
    }
    stats_.headers_accepted += **taken;
}

void MgrSync::on_get_headers(proto::PeerId from, ByteView frame) {
    auto request = proto::decode_get_headers(frame);
    if (!request) {
        disconnect(from, "mgr sync: bad GetHeaders: " + std::string{proto::to_string(request.error())});
        return;
    }
    send(from, proto::encode(book_ != nullptr ? book_->answer(*request) : proto::Headers{request->request_id, {}, {}}));
}

}  // namespace carousel::mgr
