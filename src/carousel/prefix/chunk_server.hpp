// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// ChunkServer: the serving side of fast prefix sync (seed 003), a sans-IO core.
//
// It answers GetChunks from the trie nodes in a NodeStore, for any root whose nodes it has (a
// state root in the store's window, or a storage root under one), and GetCode from a CodeStore.
//
// Full sub-trie mode, for a range of positions [from, to] (a plain prefix P is [P, P]):
//  - the stem (nodes on the path from the root to `from`, unless kFlagSkipStem), then every node
//    whose position is in the range, in pre-order; a node is sent only if its RLP is 32 bytes or
//    longer (shorter ones travel inside their parent);
//  - cut before the node that would take the entry past maxSize (at least one node is always
//    sent), with stopPath = that node's position: the client continues with the range
//    [stopPath, to] and kFlagSkipStem;
//  - the empty prefix alone (the seed's `0x0` request) is served level by level instead, so a
//    cut answer holds the top of the trie; its stopPath is the first node of the level it did not
//    finish, whose length tells the client how deep the top went.
// Streaming (kFlagStream): after the answer, each cut entry's continuations follow as frames of
// one entry each (same request id, the entry's prefix = where the last one stopped), until the entry
// is complete; past the request's stream budget (max_stream_bytes) an unfinished entry ends with a
// 0x2 entry at its stop path instead.
// Leaf mode: the leaves with keys in [from·0…, to·f…] in key order, cut at maxSize with stopPath =
// the next key, plus the proof of the range: the paths to its first key and to its last key (cut)
// or to to·f… (whole), as trie::verify_range_proof / verify_bounded_range_proof check them; a whole
// trie sent whole (the empty prefix, not cut) needs no proof: its leaves must hash to the root.
//
// Errors as the seed lists them: 0x0 for a root whose nodes the server lacks (data: the root it
// serves newest), 0x1 for a chunk whose nodes it lacks (a partially synced server), 0x2 past the
// per-peer rate limit, 0x4 for an invalid request (maxSize 0, ranges out of order, ...). A frame
// that does not decode gets every entry 0x4 when its request id can be read, else the peer is
// dropped.

#include <functional>
#include <map>
#include <string>

#include <carousel/proto/endpoint.hpp>
#include <carousel/proto/prefix_messages.hpp>
#include <carousel/state/code_store.hpp>
#include <carousel/trie/node_store.hpp>
#include <carousel/trie/path_nodes.hpp>
#include <carousel/trie/path_range.hpp>

namespace carousel::prefix {

struct ServerOptions {
    std::size_t max_response_bytes = 4 * 1024 * 1024;  // cap on maxSize, whatever a client asks
    // Per peer, token bucket. A state has a storage trie for about every tenth account and a small
    // one takes a request of its own, so an honest client sends thousands of small requests a
    // second (200k accounts: about 24k requests, 5 KB each on average).
    double requests_per_second = 4000;
    double burst = 8000;
    // Most bytes one streamed request (kFlagStream) sends after its first answer. The continuations
    // are queued for the peer at once, so this bounds what one request can make the server buffer.
    std::size_t max_stream_bytes = std::size_t{8} << 20;
};

// What a server answered, by kind. Every ChunkData entry it sends is counted once: with data, or
// under its error code (0x2 covers the rate limit and the stream budget; 0x4 an invalid request
// and a frame that did not decode but named its request id).
struct ServerStats {
    uint64_t requests{0};  // GetChunks served (not backed off, decoded)
    uint64_t entries{0};   // entries of those
    uint64_t nodes_sent{0};
    uint64_t leaves_sent{0};
    uint64_t bytes_sent{0};
    uint64_t data_entries{0};   // entries with nodes or leaves (or a stop path)
    uint64_t unknown_root{0};   // 0x0 entries
    uint64_t no_chunk{0};       // 0x1 entries
    uint64_t back_off{0};       // 0x2 entries
    uint64_t invalid{0};        // 0x4 entries
    uint64_t code_answers{0};   // CodeData sent, backed off or not
    uint64_t code_back_off{0};  // of those, empty for the rate limit
    uint64_t peers_dropped{0};  // for a frame that did not decode or was not a request

    [[nodiscard]] uint64_t errors() const noexcept { return unknown_root + no_chunk + back_off + invalid; }
};

// One line: requests, entries by kind (0x0, 0x1, 0x2, 0x4 named), code answers, peers dropped,
// what was sent. The stop line of `carousel serve`.
std::string describe(const ServerStats& stats);

class ChunkServer final : public proto::Endpoint {
  public:
    // Serves the nodes in `nodes` and the code in `code` (both outlive the server). `newest_root`
    // names the root to suggest when a client asks for one the server lacks.
    ChunkServer(const trie::NodeStore& nodes, const state::CodeStore* code, std::function<Hash()> newest_root,
                ServerOptions options = {});

    // Serves full-mode ranges of the tries `paths` holds from it (a scan by position) instead of
    // walking `nodes` by hash; the answers are the same, since a PathNodeSource is exact for the
    // roots it opens (errors, the empty prefix, leaf mode and other roots still read `nodes`).
    // `paths` outlives the server; null turns it off.
    void use_paths(const trie::PathNodeSource* paths) noexcept { paths_ = paths; }

    void on_frame(proto::PeerId from, ByteView frame, proto::Time now) override;
    void on_disconnect(proto::PeerId peer, proto::Time now) override;

    // Answers without the network (tests, and a syncing node serving what it holds).
    proto::ChunkData serve(const proto::GetChunks& request);
    proto::CodeData serve(const proto::GetCode& request);

    const ServerStats& stats() const noexcept { return stats_; }

  private:
    proto::ChunkEntry serve_entry(const proto::GetChunks& request, const trie::PathRange& range, std::size_t max_size);
    bool admit(proto::PeerId peer, proto::Time now);
    void count(const proto::ChunkEntry& entry) noexcept;
    void drop(proto::PeerId peer, std::string reason);

    const trie::NodeStore& nodes_;
    const state::CodeStore* code_;
    const trie::PathNodeSource* paths_{nullptr};
    std::function<Hash()> newest_root_;
    ServerOptions options_;
    ServerStats stats_;
    struct Bucket {
        double tokens{0};
        proto::Time last{0};
    };
    std::map<proto::PeerId, Bucket> buckets_;
};

}  // namespace carousel::prefix
