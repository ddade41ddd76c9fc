// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// PrefixSync: the client of fast prefix sync (seed 003), a sans-IO core, full sub-trie mode.
//
// It syncs one state root: the account trie, every storage trie an account names, and all code,
// from as many peers as are connected, verifying everything on arrival (TrieSync) and writing only
// verified data. The flow, as the seed describes it:
//  - each trie starts with the `0x0` request (its top levels, or all of it when small);
//  - then the frontier — the referenced nodes not held yet — is requested by position, many
//    prefixes per request, many requests in flight, spread over the peers (giant storage tries
//    split into sub-prefixes this way by themselves);
//  - a cut answer continues from its stop path as the range [stopPath, prefix], at any peer;
//  - a peer that errs, times out, or sends a chunk that does not verify loses standing and its work
//    goes back to the pool; below a floor it is dropped;
//  - a request slower than its peer's measured round trip allows (PrefixSyncOptions::rtt_scaling) is
//    hedged: its work goes to another peer without waiting for the first, and the slow peer's
//    window falls to one, so a stalling peer stops holding up the sync long before request_timeout;
//  - a peer's connection that closes is the driver's to redial (connection_closed(), reconnected():
//    the peer keeps its record and standing over its connections);
//  - `0x0` with a newer root that the trusted header source confirms moves the sync to that root;
//    what is held already is never fetched again (a node in the store is a complete subtree), so
//    the move only heals what changed.
// An account-trie node is stored only once the storage tries and code of its accounts are
// complete, so a sync that is killed and restarted skips every subtree it finished.
//
// Leaf mode (PrefixSyncOptions::leaf_mode) fetches key ranges of leaves with their edge proofs instead
// (LeafSync), storage tries likewise, and builds the tries at the end.
//
// Light mode (PrefixSyncOptions::light_accounts, full mode only): only the chunks on the paths to the
// given account keys are fetched — the top of the trie, then at each frontier position that is a
// prefix of a wanted key its sub-trie (cut answers are continued only along those paths) — and the
// storage tries and code of the wanted accounts. Every node is verified as in a full sync. The sync
// is done when no frontier position leads to a wanted key and the wanted storage and code are
// complete; light_result() then reads each wanted account from the verified nodes: found (its
// value) or absent (the verified path ends without it: a proof of absence). An account-trie node
// is stored only when complete as in a full sync: other accounts in a fetched chunk name their
// storage and code as dependencies that a light sync does not fetch, so their nodes stay in memory
// and the store keeps meaning "complete subtree" (a later full sync on the same store reuses it).
//
// Partial serving: verified_nodes() is a NodeStore view of everything verified so far (the store
// and the nodes waiting in memory); a ChunkServer on it, with root() as its root, serves other
// clients what this one holds and answers 0x1 for the rest.
//
// A move to a newer root in leaf mode keeps the leaves verified so far as the nodes they build
// (adopted by the new root's trie wherever it references them) and fetches the rest of the account
// trie as whole sub-tries, as healing; storage tries stay in leaf mode.
//
// A killed sync resumes from what survived: in full mode the stored complete subtrees; in leaf mode
// also a spilled trie's verified leaves and key intervals (LeafSync); a leaf trie still in memory
// starts again.
//
// Not built yet: light mode in leaf mode.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <carousel/dht/peer_pool.hpp>
#include <carousel/proto/endpoint.hpp>
#include <carousel/proto/prefix_messages.hpp>
#include <carousel/state/code_store.hpp>
#include <carousel/trie/node_store.hpp>
#include <carousel/trie/path_range.hpp>
#include <carousel/trie/trie_sync.hpp>

#include "leaf_sync.hpp"

namespace carousel::prefix {

struct PrefixSyncOptions {
    bool leaf_mode = false;  // fetch leaves with edge proofs (LeafSync) instead of whole sub-tries
    std::size_t max_response_bytes = 512UL * 1024;  // maxSize of every GetChunks
    std::size_t prefixes_per_request = 16;
    // Full mode: ask with kFlagStream, so a cut sub-trie keeps coming without a request per chunk
    // (one round trip saved per maxSize of it). The request keeps its peer slot until its stream ends.
    bool stream = false;
    // Most in flight at once per peer (most answers are small: one storage trie); each peer starts
    // at 4 and earns more with answers that come back within a quarter of the timeout.
    std::size_t requests_per_peer = 16;
    std::size_t code_per_request = 64;
    // A request not answered within request_timeout is given up, and its peer penalised. Before
    // that, once it is older than rtt_scaling times its peer's round-trip estimate (a moving average;
    // for a peer not measured yet, the median of the others', or initial_rtt when no peer is
    // measured), at least min_hedge_after, it is hedged:
    // its work is asked of another peer as well, the first answer is taken and the other is ignored
    // without penalty, and the slow peer's window falls to one request. While another peer, no
    // slower, that could take the work sits idle, the request is hedged sooner: past rtt_scaling
    // times the best peer's estimate.
    proto::Time request_timeout = std::chrono::seconds{10};
    double rtt_scaling = 3;
    proto::Time min_hedge_after = std::chrono::milliseconds{500};
    proto::Time initial_rtt = std::chrono::milliseconds{250};
    proto::Time back_off = std::chrono::seconds{1};
    // Peers that answered 0x0 / 0x1 for a trie are asked for it again this often (a partially
    // serving peer may have it by then; while no other peer has it, the sync waits this long).
    proto::Time lacking_retry = std::chrono::seconds{2};
    int drop_score = -8;  // a peer whose standing falls here is dropped
    // Leaf mode: where a trie's verified leaves go once they pass leaf_spill_bytes in memory (null:
    // they stay in memory). See LeafSync.
    store::KV* leaf_spill = nullptr;
    std::size_t leaf_spill_bytes = std::size_t{4} << 20;
    // Light mode: the account keys (keccak256 of the address) to sync; empty: the whole state.
    std::vector<Hash> light_accounts;
};

// A wanted account after a light sync: its account RLP, or nullopt when the state proves it absent.
struct LightAccount {
    Hash key{};
    std::optional<Bytes> value;
};

// One peer's record. A peer that reconnects keeps it (reconnected()): the counters add up over its
// connections and its standing carries over.
struct PeerStats {
    uint64_t requests{0};
    uint64_t answers{0};  // answers taken whole (every entry verified or a plain refusal)
    uint64_t bytes_received{0};
    uint64_t rejected_chunks{0};
    uint64_t errors{0};
    uint64_t timeouts{0};    // requests it did not answer within its timeout (then given up, and the peer penalised)
    uint64_t hedged{0};      // requests past its deadline that went to another peer as well (not an offence)
    uint64_t late{0};        // answers to hedged requests that came after all (ignored: the other one is taken)
    uint64_t violations{0};  // connections closed on a protocol violation (reported by the driver)
    bool dropped{false};     // its standing fell to the floor: the sync dropped it and will not take it back
    bool closed{false};      // its connection is closed (the driver may reconnect it)
    std::string gone;        // why it was dropped or its connection closed (empty while connected)
};

struct SyncProgress {
    double account_fraction{0};  // key space of the account trie held (exact: 1 - frontier)
    uint64_t accounts{0};        // account leaves verified in this run (not those of subtrees stored before it)
    uint64_t slots{0};           // leaves of the distinct storage tries synced (one shared by several accounts once)
    uint64_t storage_tries{0};   // storage tries found
    uint64_t storage_tries_done{0};
    uint64_t code_wanted{0};
    uint64_t code_done{0};
    uint64_t requests{0};
    uint64_t bytes_account_nodes{0};
    uint64_t bytes_storage_nodes{0};
    uint64_t bytes_code{0};
    uint64_t bytes_received{0};  // whole frames
    uint64_t nodes_received{0};  // trie nodes and proof nodes received (each one hashed to verify it)
    uint64_t node_bytes_received{0};
    uint64_t nodes_built{0};  // leaf mode: trie nodes built from verified leaves (each hashed once to build it)
    uint64_t node_bytes_built{0};
    uint64_t root_moves{0};
    uint64_t light_wanted{0};  // light mode: accounts asked for
};

class PrefixSync final : public proto::Endpoint {
  public:
    // Whether a state root comes from the trusted header source (a recent block's root).
    using TrustedRoot = std::function<bool(const Hash&)>;

    PrefixSync(trie::NodeStore& nodes, state::CodeStore& code, const Hash& root, PrefixSyncOptions options = {},
               TrustedRoot trusted = {});
    ~PrefixSync() override;

    void on_connect(proto::PeerId peer, proto::Time now) override;
    void on_disconnect(proto::PeerId peer, proto::Time now) override;
    void on_frame(proto::PeerId from, ByteView frame, proto::Time now) override;
    std::optional<proto::Time> next_deadline() const override;
    void on_timer(proto::Time now) override;

    // From the driver: `peer`'s connection closed for `reason` (after its on_disconnect). A
    // protocol violation (`violation`: the peer broke the framing) costs standing as a chunk that
    // does not verify. Returns false when the peer is dropped (the driver should not reconnect it).
    bool connection_closed(proto::PeerId peer, const std::string& reason, bool violation);
    // From the driver: `peer` is a new connection to the peer that was `previous` (after on_connect):
    // it keeps that peer's record and standing.
    void reconnected(proto::PeerId previous, proto::PeerId peer);

    // The whole state (accounts, storage, code) at root() is in the stores; in light mode, the
    // wanted accounts are resolved and their storage and code are in the stores.
    bool done() const noexcept;
    // The first error reading or writing the leaf spill (PrefixSyncOptions::leaf_spill) of a trie still
    // syncing, ok if none: that trie never completes (it is not built, so the store never holds its
    // root), and neither does the sync; the driver stops it and reports the error.
    store::Status spill_status() const;
    // The first failed read of the client's stores that the sync met or spill_status(), ok if none.
    // A node whose read failed is fetched again (nothing is lost), but the disk under the store is
    // failing: the driver stops the sync and reports it.
    store::Status store_status() const;
    bool light() const noexcept { return !light_keys_.empty(); }
    // Light mode, once done(): every wanted account, in key order, found or proven absent.
    // nullopt before done() (or if a verified node went missing from the store: a store error).
    std::optional<std::vector<LightAccount>> light_result() const;
    // Everything verified so far (stored, or waiting in memory for its subtree): what this node can
    // serve while it syncs. Valid while the PrefixSync lives; read-only (puts are ignored).
    const trie::NodeStore& verified_nodes() const noexcept;
    const Hash& root() const noexcept { return root_; }
    // Every connected peer answered 0x0 for root(): none has it (it left their windows, or is not a
    // root at all). The value is the newest root one of them named (nullopt if none did), which
    // the trusted header source did not confirm. nullopt while some peer may still serve it.
    std::optional<std::optional<Hash>> root_unavailable() const;
    SyncProgress progress() const;
    const std::map<proto::PeerId, PeerStats>& peers() const noexcept { return stats_; }
    // A peer's standing: each answer taken whole earns a point (up to 8), each offence costs some;
    // at drop_score it is dropped. It carries over a reconnection (reconnected()).
    int standing(proto::PeerId peer) const { return pool_.standing(peer); }

  private:
    struct Task;
    struct Request;
    class VerifiedNodes;
    class BuiltNodes;

    void pump(proto::Time now);
    static dht::PeerPoolOptions pool_options(const PrefixSyncOptions& options);
    bool issue(proto::PeerId peer, proto::Time now);
    std::optional<Request> next_trie_request(Task& task, proto::PeerId peer);
    void handle_chunks(proto::PeerId from, const proto::ChunkData& data, std::size_t frame_size, proto::Time now);
    // What became of one full-mode entry: taken (kDone), taken and cut inside its range
    // (kContinues: continue from its stop path), refused or an error (kRejected: its range, if a
    // range, is queued again), or 0x0 with a trusted newer root, which moved the sync (kMoved).
    enum class EntryResult { kDone, kContinues, kRejected, kMoved };
    EntryResult take_entry(proto::PeerId from, Task& task, bool top, bool is_range, const proto::ChunkEntry& e,
                           const trie::PathRange& range, int& demerits, proto::Time now);
    // A later frame of a streamed answer (one entry, continuing one cut entry).
    void handle_stream_frame(proto::PeerId from, std::map<uint64_t, Request>::iterator it, const proto::ChunkData& data,
                             proto::Time now);
    // Keeps a streamed answer's request open only to follow its frames to their end, taking nothing
    // (after the sync moved to a newer root while the answer was being handled).
    void follow_stream(const proto::ChunkData& data, const Request& asked, proto::PeerId from, proto::Time now);
    // Marks the frontier positions inside a stream's ranges in flight (recorded in r.marked).
    void mark_stream(Task& task, Request& r);
    // After an answer: the peer's standing, a storage trie that completed, more requests.
    void settle(proto::PeerId from, Task& task, bool is_account, int demerits, proto::Time now);
    void handle_leaf_entries(proto::PeerId from, const Request& r, const proto::ChunkData& data, Task& task,
                             proto::Time now);
    void handle_code(proto::PeerId from, const proto::CodeData& data, std::size_t frame_size, proto::Time now);
    // Frees r's slot at its peer and, unless it was hedged (done then), returns its work to the pool.
    void fail_request(const Request& r);
    void return_work(const Request& r);
    // When `r` is hedged (nullopt: never): past its peer's deadline, or, while another peer no
    // slower that could take its work is idle, past the best peer's.
    std::optional<proto::Time> hedge_at(const Request& r) const;
    // The answer to a hedged request: counted and measured, not taken, not penalised.
    void take_late(std::map<uint64_t, Request>::iterator it, proto::Time now);
    // Fails every request in flight to `peer` (its work goes back to the pool) and forgets it.
    void forget_peer(proto::PeerId peer);
    // Costs `peer` standing (the pool's strike); at drop_score it is dropped.
    void penalize(proto::PeerId peer, int amount);
    // Disconnects and forgets a peer whose standing fell to drop_score, saying why.
    void drop(proto::PeerId peer);
    // After an answer: `demerits` cost standing; none earns one point (up to 8) and counts an answer.
    void reward_or_penalize(proto::PeerId peer, int demerits);
    void move_to_root(const Hash& root);
    Task& storage_task(const Hash& storage_root, const Hash& account_key);
    void finish_storage(Task& task);
    void make_account_task(const Hash& root, bool leaf_mode);
    // The trie (the account trie or a storage trie) a request for `root` belongs to, or null.
    Task* find_task(const Hash& root);
    // `e` is 0x0 naming a newer root that the trusted header source confirms: move there.
    bool can_move_to(const proto::ChunkEntry& e) const;
    void note_unknown_root(proto::PeerId from, const proto::ChunkEntry& e);
    trie::TrieSync::LeafSink account_leaf_sink();
    static bool task_fetched(const Task& task);
    static bool task_complete(const Task& task);
    // Light mode: whether some wanted key lies below frontier position `pos`.
    bool light_focus(const Nibbles& pos) const;
    bool light_fetched() const;

    trie::NodeStore& nodes_;
    state::CodeStore& code_;
    Hash root_;
    PrefixSyncOptions options_;
    TrustedRoot trusted_;
    std::unique_ptr<Task> account_;
    std::map<Hash, std::unique_ptr<Task>> storage_;  // by storage root, while incomplete
    std::set<Hash> code_wanted_;
    std::set<Hash> code_in_flight_;
    std::map<uint64_t, Request> requests_;
    // Connections, windows, round trips, back-offs (pauses) and standing (see pool_options).
    dht::PeerPool pool_;
    std::map<proto::PeerId, PeerStats> stats_;
    std::map<proto::PeerId, std::optional<Hash>>
        lacks_root_;                   // peers that answered 0x0 for root_, and the root they named
    proto::PeerId last_peer_{0};       // got the last request (pump's round robin)
    proto::Time lacking_reset_at_{0};  // when the peers that lacked a trie are asked again
    SyncProgress progress_;
    std::vector<Nibbles> light_keys_;  // light mode: the wanted keys, unpacked, sorted
    std::set<Hash> light_wanted_;
    std::unique_ptr<VerifiedNodes> verified_;
    std::unique_ptr<BuiltNodes> built_;  // the store as the LeafSyncs write it
};

}  // namespace carousel::prefix
