// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// MgrSync: the Merry-Go-Round client, a sans-IO proto::Endpoint — the seed's sync steps 1–5 — on a
// dht::Overlay of its own (mgr/overlay_host.hpp).
//
// Network: the client has its own key and record, finds nodes by Discovery (bootstrap(), then
// lookups), and reaches them over authenticated connections it dials on demand, at most
// OverlayOptions::connections.max_peers at a time (CoveringPeers prefers the nodes it is connected
// to). Its record announces radius 0: it enters other nodes' routing tables (its PINGs bond it, and
// its lookups need that), but a radius-0 block is the node's own id alone, which no region's key is
// (covers() never holds for it), so no node routes gossip to it or counts it as a copy of a region
// (RoutingTable::covering_bits counts only radii of at least a region). Nodes are named locally by
// handle (dht::PeerHandles): the pool's windows, strikes and bans are per node id. A node the client
// could not reach (Core::unreachable: a dial or handshake failed, a back-off, the cap) is not asked
// for MgrSyncOptions::unserved_timeout; one whose connection closed may be asked again at once (it
// is dialed again).
//
// The key space is cut into the gossip regions (regions of 2^region_bits keys, in key order). For
// each region the client holds a verified range [region.first, cursor) of the account trie's leaves,
// anchored at an epoch boundary root; that is P, and the first region's cursor not at its end is L.
//  - Forward (step 3): ask a node covering L's region (routing table; a Kademlia lookup when the table
//    knows none) for the leaves from L in leaf mode at the latest boundary root; the answer carries
//    its two edge proofs and is verified (trie::verify_range_proof / verify_bounded_range_proof)
//    before anything is kept; L moves past the last key.
//  - Boundary (step 4): when the head passes a boundary, every region range anchored at the older
//    root is rolled forward with GetDiff(old root, new root, range) from a node covering it: the
//    client applies the changed keys to its own leaves of the range and checks the result against
//    the new root with the answer's range proof. A diff that leaves out or adds a change fails that
//    check. Forward fetching continues at the new root meanwhile (each region has its own anchor).
//  - Storage (the same walk, a second lap): once every account region is complete at the latest
//    boundary, every account with storage (an owner) is known with its storage root, and the client
//    walks the regions again for storage. In region t it first walks the owners with GetBareStorage: a
//    node sends each owner's leaves in storage_region(t, a) bare — no proof — when there are few
//    (MGR.md's small tries), and marks the others large. A large part is then fetched as a GetChunks
//    range at a's storage root, verified with its edge proofs and rolled like an account range. A
//    trie with bare parts is verified once every part is held, by rebuilding its root; when that
//    fails, its bare parts are fetched again with proofs, and each node whose bare part differs from
//    the proven one gets a strike. At a boundary, bare parts of a trie whose root moved (or that was
//    not yet verified) are asked again by name at the new root. Then code, fetched by hash from the
//    nodes covering the hash.
//  - Done (step 5): every region of every trie complete at the latest boundary and all code held; the
//    client then rebuilds the state root and every storage root from its leaves and checks them.
//  - Head: after that it follows the head: at each new block it asks each region's changes since the
//    block it last verified there (from the latest boundary when a node lacks that root) and each
//    moved storage trie's parts (bare when small, see HeadRegion), checks them, and its head view's
//    root equals that block's root (verified_number / verified_root).
// Chain: every root the client checks against is its ChainView's. While the root of the head's
// boundary is unknown (nullopt; e.g. book_chain over a book still empty, whose head is 0) the client
// asks nothing and waits: nothing fails, and no region's unserved time runs. Headers (take_headers):
// a client in a process has no caller to tell it the chain, only the network. Given a HeaderBook it
// asks its routing table's contacts in turn for the headers the book lacks (HeaderPoll, every
// `poll.interval`; banned nodes are skipped), and a node whose Headers answer the book refuses gets a
// strike. It answers GetHeaders from the book (without one, with nothing). It takes no gossip (radius
// 0: nobody routes any to it, and it accepts no offer), so the poll is its only source.
// Peers: a peer whose answer fails verification or who does not answer in time gets a strike, and
// is not asked again after `strikes_to_ban`; its range goes to another covering node. A region
// whose every covering node is banned, behind or unreachable for MgrSyncOptions::unserved_timeout ends
// the sync: failure() names the region and what became of its nodes.
// The requests and peers are a dht::PeerPool's (ids, windows, deadlines, strikes and bans), the
// choice of a node covering a key CoveringPeers'. The class spans five source files (see
// mgr_sync_parts.hpp): the walk, requests and peers, bare storage, following the head, and headers.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <carousel/dht/node_endpoint.hpp>
#include <carousel/dht/node_key.hpp>
#include <carousel/dht/overlay.hpp>
#include <carousel/dht/peer_pool.hpp>
#include <carousel/proto/endpoint.hpp>
#include <carousel/proto/mgr_messages.hpp>
#include <carousel/proto/prefix_messages.hpp>
#include <carousel/store/kv.hpp>
#include <carousel/trie/node_store.hpp>

#include "covering_peers.hpp"
#include "header_book.hpp"
#include "header_poll.hpp"
#include "overlay_host.hpp"
#include "placement.hpp"
#include "sync_leaves.hpp"

namespace carousel::mgr {

// What the client trusts: the head block number and the state root of any block up to it.
struct ChainView {
    std::function<uint64_t()> head;
    std::function<std::optional<Hash>(uint64_t number)> state_root;
};

// The chain as `book` holds it (mgr_sync_headers.cpp): head is the latest header's number (0 while the
// book is empty), state_root is book.root(). For a client in a process: MgrSync{key, endpoint,
// options, book_chain(book)} and then take_headers(book). `book` outlives the view; give it a window
// of at least two epochs (the client checks against the anchor boundary's root while following).
ChainView book_chain(const HeaderBook& book);

struct MgrSyncOptions {
    unsigned region_bits{253};
    uint64_t epoch_length{256};
    // Discovery, handshakes and the bounded set of connections (connections.max_peers).
    dht::OverlayOptions overlay;
    // Flow control: the client keeps at most `window` bytes of answers outstanding (a request counts
    // its maxSize). The window starts at initial_window, grows by every answer's size while answers
    // come in time (slow start) and halves at a timeout; answers are at most window / 4 and at most
    // max_response_bytes. A request's deadline is request_timeout plus the time the outstanding bytes
    // take at the receive rate seen so far, so a slow link is not mistaken for silent peers.
    uint64_t max_response_bytes{uint64_t{256} * 1024};
    uint64_t initial_window{uint64_t{128} * 1024};
    uint64_t max_window{uint64_t{16} * 1024 * 1024};
    // The window never holds more than the receive rate drains in this long (at least
    // initial_window): a deeper queue only delays every answer, the DHT's replies included.
    proto::Time queue_target{std::chrono::seconds{2}};
    std::size_t max_in_flight{64};
    std::size_t max_in_flight_per_peer{4};
    proto::Time request_timeout{std::chrono::seconds{5}};
    proto::Time tick{std::chrono::milliseconds{200}};
    unsigned strikes_to_ban{2};
    // A region that needs a request and has had no node to ask for this long (every covering node
    // banned, behind or unreachable, or none found) ends the sync with a failure naming the region:
    // no honest copy of it is reachable.
    proto::Time unserved_timeout{std::chrono::minutes{3}};
    // Where the verified leaves are kept (sync_leaves.hpp): null, in memory (MemorySyncLeaves); else
    // in this KV (KvSyncLeaves, whose two leaf columns it empties and then owns), which outlives the
    // client. A failed read or write of it ends the sync (failure() names it).
    store::KV* leaf_kv{nullptr};
};

struct SyncStats {
    uint64_t bytes_received{0};  // every frame; by kind below (the rest is DHT traffic)
    uint64_t chunk_bytes{0};     // ChunkData
    uint64_t diff_bytes{0};      // DiffData
    uint64_t bare_bytes{0};      // BareStorage
    uint64_t code_bytes{0};      // CodeData
    uint64_t chunk_requests{0};
    uint64_t diff_requests{0};
    uint64_t code_requests{0};
    uint64_t bare_requests{0};
    uint64_t rejected_answers{0};  // failed verification (a trie whose bare parts fail its root: one)
    uint64_t timeouts{0};
    uint64_t errors{0};  // error entries (0x0/0x1/0x2/0x4)
    uint64_t rolls{0};   // region ranges rolled to a newer root
    uint64_t banned_peers{0};
    uint64_t peers_used{0};  // distinct nodes that answered a request of the walk or the rolls
    uint64_t lookups{0};
    uint64_t headers_accepted{0};  // new to the book, from Headers answers
    uint64_t headers_rejected{0};  // Headers answers the book refused (the sender struck)
};

class MgrSync final : public OverlayHost {
  public:
    // The client of `key`, reached at `endpoint`'s addresses (its radius is ignored: it announces 0).
    MgrSync(const dht::KeyPair& key, dht::NodeEndpoint endpoint, MgrSyncOptions options, ChainView chain);

    // Meets the network through a node whose record it was given (a PING, so that the two bond), and
    // looks up its own id a second later (the table fills; lookups of regions then find the nodes
    // covering them).
    void bootstrap(const dht::NodeRecord& bootnode, proto::Time now);

    // Headers from the network (see the header comment; mgr_sync_headers.cpp): from now on the client
    // polls its table's contacts for what `book` lacks (HeaderPoll with `poll`), takes their answers
    // into it, and answers GetHeaders from it. The client's ChainView should be book_chain(book).
    // `book` outlives the client. Call it at most once.
    void take_headers(HeaderBook& book, HeaderPollOptions poll = {});

    dht::Overlay& overlay() override { return overlay_; }
    const dht::Overlay& overlay() const override { return overlay_; }

    // Complete at the latest boundary and checked (state root and every storage root rebuilt).
    bool synced() const noexcept { return synced_; }
    // The newest block whose state root the client's state equals (after synced()).
    std::optional<uint64_t> verified_number() const noexcept { return verified_number_; }
    // When the client first found itself synced (the driver's clock).
    proto::Time synced_at() const noexcept { return synced_at_; }
    // The state root its leaves hash to, as checked when last synced.
    const Hash& state_root() const noexcept { return state_root_; }
    // Raw bytes held: every leaf's 32-byte key and value, and every code blob.
    uint64_t raw_bytes() const;
    // The boundary the held data is anchored at when synced.
    uint64_t anchor_number() const noexcept { return anchor_number_; }
    // Fraction of the work done: account regions, then storage regions, then code.
    double progress() const;
    std::size_t accounts() const;
    std::size_t slots() const;
    std::size_t codes() const noexcept { return code_.size(); }
    const SyncStats& stats() const noexcept { return stats_; }
    // Why the sync cannot go on: a mismatch found at the final check (should never happen when every
    // range verified), or a region no usable node serves (MgrSyncOptions::unserved_timeout). Empty while
    // it can.
    const std::string& failure() const noexcept { return failure_; }

  private:
    // OverlayHost
    std::optional<proto::Time> core_deadline() const override;
    void on_core_timer(proto::Time now) override;
    void on_node_disconnected(const dht::NodeId& node, proto::Time now) override;
    // A frame from an authenticated node, `from` its handle.
    void on_node_frame(proto::PeerId from, ByteView frame, proto::Time now);
    // The node named `peer` is gone: its requests fail now; `unreachable`: not asked for unserved_timeout.
    void lost(proto::PeerId peer, bool unreachable, proto::Time now);
    // mgr_sync_headers.cpp: the header poll (take_headers). poll_headers sends its request, if one is
    // due, to the next of the table's contacts not banned.
    void poll_headers(proto::Time now);
    void on_headers(proto::PeerId from, ByteView frame, proto::Time now);
    void on_get_headers(proto::PeerId from, ByteView frame);
    // Handles lost_ (the Overlay's notices come inside its calls, even inside a send of a pump:
    // they are taken at the next timer).
    void take_lost(proto::Time now);
    // The Overlay's contacts, each one the client may ask entering the pool (one found unreachable
    // not before its pause ends).
    ContactSource pool_contacts();
    // To the node named `peer` (OverlayHost::send_to); hides proto::Endpoint::send: this core names
    // nodes only.
    bool send(proto::PeerId peer, Bytes frame) { return send_to(peer, std::move(frame)); }
    // Closes the connection of the node named `peer` (hides proto::Endpoint::disconnect, as send).
    void disconnect(proto::PeerId peer, const std::string& reason) { (void)drop(peer, reason); }

    // Leaves by key, beside leaves_: a head region's changes (an empty value: deleted), a part's leaves
    // at the head.
    using Leaves = std::map<Hash, Bytes>;
    // One region of one trie: verified leaves [region.first, cursor) at `anchor`.
    struct RegionState {
        Hash anchor_root{};          // the trie's root at anchor_number (a storage root for storage)
        uint64_t anchor_number{0};   // the boundary (or, after sync, the head) the range is anchored at
        std::optional<Hash> cursor;  // next key to fetch; nullopt: complete
        bool started{false};
        bool busy{false};
        // Storage regions only. A region is filled either by the owner walk (GetBareStorage) or, when
        // `large`, with GetChunks and proofs.
        bool large{false};
        bool bare{false};            // held from a bare answer, not yet verified by the trie's rebuilt root
        proto::PeerId bare_peer{0};  // who sent it (0: nobody to blame, see settle())
        // Bare answers for this part that failed the rebuild: who sent them and the digest of their
        // leaves. Each is struck once the part is known (proven, or its trie's root rebuilt) and
        // differs.
        std::vector<std::pair<proto::PeerId, Hash>> claims;
    };
    // One region's walk over the owners with GetBareStorage, at the boundary reconciled_.
    struct BareWalk {
        std::optional<Hash> from{Hash{}};  // the next owner to ask from; nullopt: walked to the end
        std::set<Hash> again;              // owners to ask by name (new, or their trie moved)
        std::set<proto::PeerId> avoid;     // said a part in `again` was empty, and its trie failed
        bool busy{false};
    };
    struct Request {
        enum class Kind : uint8_t { kChunk, kDiff, kCode, kBare } kind{Kind::kChunk};
        proto::PeerId peer{0};
        std::size_t region{0};
        std::optional<Hash> account;  // storage region
        Hash root{};                  // chunk: the root asked; diff: the new root
        uint64_t number{0};           // the block of `root`'s state root
        Hash origin{};                // chunk: first key asked; diff: range first key
        Hash limit{};                 // last key of the range
        std::vector<Hash> code_hashes;
        std::vector<Hash> accounts;    // bare: the owners asked by name (none: from `origin` on)
        uint64_t budget{0};            // bytes this request may bring (its maxSize, when it has one)
        bool small{false};             // its answer is as large as what changed (see track)
        dht::PeerPool::Ticket ticket;  // the pool's record of it (set by track)
        bool head{false};              // a diff to a head block (following), not a roll
        bool delta{false};             // following: from the block the head region was verified at
        uint64_t from_number{0};       // following: the block the diff starts at
    };
    // Following the head: the changes of one region from the anchor boundary to block `number`,
    // verified against that block's root (a key with an empty value is deleted there). Once verified
    // at a block, the region asks only the next blocks' changes (a diff from that block's root, which
    // the nodes keep until the next boundary), so following costs the blocks' changes, not all the
    // changes since the boundary; a node that lacks the root (0x0) sends the region back to the latter.
    // A storage trie that moved since the anchor and that no region of has been verified since is
    // first asked bare at the head (GetBareStorage by name: its leaves there, no proof), checked by
    // the rebuilt storage root in check_head(); a part that fails is asked again with its proof
    // (GetChunks in leaf mode at the head's storage root), and its sender struck once check_head()
    // passes if what it said differs. A node that answers that with 0x0 does not hold the trie at
    // the head: nodes keep only the storage tries present in their region, so the part is taken as
    // empty there, which the rebuilt root then checks (nobody is struck for it: a node behind the
    // head answers the same). A trie emptied at the head needs no request.
    struct HeadSuspect {
        proto::PeerId peer{0};
        uint64_t number{0};  // the block it was for
        Leaves changes;      // what it said, as changes against the anchor
    };
    struct HeadRegion {
        uint64_t number{0};
        Hash root{};  // the root the changes were checked against (a storage root for storage regions)
        Leaves changes;
        bool busy{false};
        bool no_delta{false};
        bool bare{false};     // the changes came from a bare answer, not yet checked by check_head()
        bool no_bare{false};  // ask with proofs (a node said large, or a bare answer failed)
        bool prove{false};    // a bare answer failed: ask the part's leaves at the head with proofs
        proto::PeerId bare_peer{0};
        std::vector<HeadSuspect> claims;  // bare answers that failed
    };

    // mgr_sync.cpp: the walk, forward ranges and rolls, code, the final check.
    void pump(proto::Time now);
    bool pump_region(std::size_t region, const std::optional<Hash>& account, RegionState& state, uint64_t boundary,
                     proto::Time now);
    void pump_code(proto::Time now);
    void on_chunk_data(proto::PeerId from, ByteView frame, proto::Time now);
    void on_diff_data(proto::PeerId from, ByteView frame, proto::Time now);
    void on_code_data(proto::PeerId from, ByteView frame, proto::Time now);
    void check_done(proto::Time now);
    // GetChunks in leaf mode for r's range [origin, limit] at r.root (r.account's storage trie, or the
    // account trie), at most r.budget bytes.
    static Bytes leaf_range_request(uint64_t id, const Request& r);
    RegionState& state_of(const Request& r);
    // Whether the region a request was for still exists.
    bool live(const Request& r) const;
    // Marks the region (or head region) of a request that is over as free for a new request.
    void release(const Request& r);
    std::optional<Hash> storage_root_of(const Hash& account) const;
    // Whether leaves_ failed a read or write; sets failure_ to name it (the first failure) if so.
    bool leaves_failed();

    // mgr_sync_requests.cpp: requests and peers.
    // Flow control (see MgrSyncOptions) is the pool's (dht::PeerPool): a fixed window of
    // max_in_flight_per_peer requests per peer, and the link's byte window with queue deadlines.
    // A request holds its budget of the link window when the server fills the answer up to it
    // (leaves, a bare walk), and the pool's small_reserve() when the answer is as large as what
    // changed (`small`: a diff, never cut; small parts asked by name while following). Following asks
    // every region each block, and a boundary rolls every region: reserving a whole budget for each
    // such small answer left a handful in flight at a time, too few to reach a block before the
    // next one at hundreds of regions. Deadlines still count every request at its budget (an answer
    // may outgrow a small reservation, and on a slow link it must not be taken for a silent peer).
    static dht::PeerPoolOptions pool_options(const MgrSyncOptions& options);
    // A request of `kind` to `peer` for `region` at `root` (the root of block `number`), with the
    // pool's next budget.
    Request new_request(Request::Kind kind, proto::PeerId peer, std::size_t region, const Hash& root,
                        uint64_t number) const;
    // Sends nothing: gives `r` its ticket (deadline, reservation) and keeps it under `id`.
    void track(uint64_t id, Request r, proto::Time now);
    // Removes an answered request; false if it is unknown or not from `from` with this kind.
    std::optional<Request> take(uint64_t id, proto::PeerId from, uint8_t kind, std::size_t frame_bytes,
                                proto::Time now);
    // Decodes an answer and takes its request: a frame that does not decode drops the peer (with
    // `name` in the reason); an answer to no request of this kind from this peer is nullopt.
    // Defined in mgr_sync_parts.hpp.
    template <class Message>
    std::optional<std::pair<Message, Request>> take_answer(proto::PeerId from, ByteView frame, Request::Kind kind,
                                                           proto::WireResult<Message> (*decode)(ByteView),
                                                           std::string_view name, proto::Time now);
    // An error entry in an answer (see on_error's comment in the source).
    void on_error(proto::PeerId from, proto::ChunkError error, proto::Time now);
    void strike(proto::PeerId peer);
    // A usable node covering `position` (CoveringPeers::pick); a region unserved for too long sets
    // failure_.
    std::optional<proto::PeerId> pick_peer(const Hash& position, proto::Time now,
                                           const std::set<proto::PeerId>& avoid = {});

    // mgr_sync_bare.cpp: bare storage.
    void pump_bare(std::size_t region, proto::Time now);
    void on_bare_storage(proto::PeerId from, ByteView frame, proto::Time now);
    // Verifies a trie with bare parts once every part is held at the reconciled boundary: its
    // rebuilt root must be the storage root. Otherwise its non-empty bare parts are fetched again
    // with proofs, and its empty ones asked again by name of another node (an empty part has
    // nothing to prove: nodes keep only the storage tries present in their region), for at most
    // kMaxSettleRounds rounds. When it passes, the claims of failed rounds that differ are struck.
    void settle(const Hash& account);
    static constexpr unsigned kMaxSettleRounds = 16;
    // Drops the bare part of a storage region and marks it for the owner walk by name.
    void forget_bare(const Hash& account, std::size_t region);
    // Leaves held of the account's storage in the region.
    std::size_t part_size(const Hash& account, std::size_t region) const;
    // A verified bare part of a trie that moved at a boundary is asked again whole up to this many
    // leaves, and rolled with GetDiff beyond.
    static constexpr std::size_t kBareRefetchMax = 8;

    // mgr_sync_head.cpp: following the head (see HeadRegion).
    void follow_head(proto::Time now);
    HeadRegion& head_region_of(const Request& r);
    // A diff for a head region to block `number` (root `to_root`): from the region's own verified block
    // when the nodes still keep it, else from the anchor (`anchor_from`).
    void request_head_diff(std::size_t region, const std::optional<Hash>& account, const Hash& anchor_from,
                           const Hash& to_root, uint64_t number, proto::Time now);
    // The account at the head being followed: its epoch leaf with the head changes applied.
    std::optional<Bytes> head_account(const Hash& key) const;
    void check_head(uint64_t number);
    // Bare leaves at the head of these moved storage tries' parts in one region (see HeadRegion).
    void request_head_bare(std::size_t region, std::vector<Hash> accounts, uint64_t number, proto::Time now);
    // The leaves of a moved storage trie's part at the head, in leaf mode with their proof (a bare
    // answer for it failed).
    void request_head_part(std::size_t region, const Hash& account, const Hash& to_root, uint64_t number,
                           proto::Time now);
    void on_head_part(proto::PeerId from, const Request& r, const proto::ChunkEntry& e);
    // Sets a head request's peer, budget, region and range (the region's block of the trie) to `to_root`.
    void set_head_range(Request& r, proto::PeerId peer, std::size_t region, const std::optional<Hash>& account,
                        const Hash& to_root, uint64_t number);
    // Sets a head part from its leaves at the head: the changes against the anchored leaves.
    void set_head_part(HeadRegion& t, const Hash& account, std::size_t region, const Leaves& now, uint64_t number);
    void on_head_bare(proto::PeerId from, const Request& r, const std::vector<Hash>& asked,
                      const proto::BareStorage& data);
    Hash head_storage_root(const Hash& account) const;
    // Makes the followed state at a boundary the new anchor (no request needed): the leaves, and the
    // tries check_head just built and verified at that boundary.
    void reanchor(uint64_t boundary);
    // Rebuilds anchor_nodes_ from the anchored leaves (leaves_): every storage trie, then
    // the account trie, whose root it returns (and keeps in anchor_state_root_). nullopt, with failure_ set, when a
    // storage trie's root is not the one its account leaf names.
    std::optional<Hash> rebuild_anchor_tries();

    dht::Overlay overlay_;
    std::map<proto::PeerId, bool> lost_;                      // nodes gone, not handled yet (true: unreachable)
    std::map<proto::PeerId, proto::Time> unreachable_until_;  // nodes not asked until then
    std::optional<proto::Time> self_lookup_at_;
    MgrSyncOptions options_;
    ChainView chain_;
    HeaderBook* book_{nullptr};              // take_headers
    std::optional<HeaderPoll> header_poll_;  // take_headers
    std::vector<Region> regions_;
    std::vector<RegionState> account_regions_;
    std::map<Hash, std::vector<RegionState>> storage_regions_;  // per account with storage
    // The verified leaves: the account trie's, and each owner's storage leaves (at the anchor when
    // following the head: its changes are kept apart, in the HeadRegions).
    std::unique_ptr<SyncLeaves> leaves_;
    // The tries of leaves_ (set when the sync completes and at every re-anchor):
    // following checks each head by applying its changes to them.
    trie::MemoryNodeStore anchor_nodes_;
    std::size_t anchor_nodes_live_{0};    // its size when last rebuilt (what later boundaries add is partly garbage)
    Hash anchor_state_root_{};            // the account trie's root there
    std::map<Hash, Hash> storage_roots_;  // accounts with storage at the anchor boundary, and their roots
    uint64_t reconciled_{~uint64_t{0}};   // the boundary storage_roots_ was built for
    std::map<Hash, unsigned> settle_rounds_;                // failed rebuilds per trie at the reconciled boundary
    std::vector<BareWalk> bare_walks_;                      // per region
    std::vector<HeadRegion> head_accounts_;                 // per region, while following
    std::map<Hash, std::vector<HeadRegion>> head_storage_;  // per account whose storage root moved
    std::map<Hash, Bytes> code_;
    std::set<Hash> code_wanted_;
    std::map<uint64_t, Request> requests_;
    std::set<proto::PeerId> answered_by_;  // stats_.peers_used
    // Connections, windows, the link, strikes and bans; a peer that answered 0x0 or 0x2 is paused.
    dht::PeerPool pool_;
    CoveringPeers covering_;  // whom to ask for a key (the table, lookups, the pool)
    uint64_t anchor_number_{0};
    bool accounts_done_{false};
    bool synced_{false};
    std::optional<uint64_t> verified_number_;
    proto::Time synced_at_{0};
    bool ever_synced_{false};
    Hash state_root_{};
    std::string failure_;
    proto::Time next_tick_{0};
    SyncStats stats_;
};

}  // namespace carousel::mgr
