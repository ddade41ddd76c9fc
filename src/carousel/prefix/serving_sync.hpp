// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// ServingSync: a syncing node that serves what it has verified so far (the seed's partial
// serving), as one Endpoint for one transport, so both halves run on the transport's thread and
// the server reads the sync's state without locks.
//
//  - The PrefixSync asks only the peers this node dialled (dialled()): a peer that connected to us
//    came to sync from us, and may be a plain client that would take our requests as an offence.
//  - A ChunkServer over PrefixSync::verified_nodes() (the store and the nodes verified but waiting
//    in memory), with the sync's root as its newest root, answers GetChunks and GetCode from any
//    peer: 0x1 for what this node does not hold yet.
//  - Every other frame goes to the sync, which judges it.
// Both keep working after the sync is done: the node then serves the whole state it synced.

#include <set>

#include "chunk_server.hpp"
#include "prefix_sync.hpp"

namespace carousel::prefix {

class ServingSync final : public proto::Endpoint {
  public:
    // `sync` and `code` outlive this; the server is built on sync.verified_nodes() and `code`.
    ServingSync(PrefixSync& sync, const state::CodeStore& code, ServerOptions server_options = {});

    // `peer` is one this node connected to: the sync may ask it for chunks. Call before the
    // transport delivers its on_connect (for TCP: right after connect(), before run()).
    void dialled(proto::PeerId peer) { dialled_.insert(peer); }
    // `peer`, connected already (TcpTransport::connect_async reports after on_connect), is one this
    // node dialled: the sync starts asking it now.
    void adopt_dialled(proto::PeerId peer, proto::Time now);

    void on_connect(proto::PeerId peer, proto::Time now) override;
    void on_disconnect(proto::PeerId peer, proto::Time now) override;
    void on_frame(proto::PeerId from, ByteView frame, proto::Time now) override;
    std::optional<proto::Time> next_deadline() const override;
    void on_timer(proto::Time now) override;

    const ChunkServer& server() const noexcept { return server_; }

  private:
    // Moves what the two halves want sent and dropped into this endpoint's outbox, in order.
    void collect();

    PrefixSync& sync_;
    ChunkServer server_;
    std::set<proto::PeerId> dialled_;
};

}  // namespace carousel::prefix
