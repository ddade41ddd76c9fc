// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// MgrNode: one Merry-Go-Round storage node, a sans-IO proto::Endpoint (docs/MGR.md), on a
// dht::Overlay (mgr/overlay_host.hpp wires the driver to it).
//
// It is a node of the network with its own key: its signed record (dht/node_endpoint.hpp) names its
// addresses and its radius ("rad"); Discovery finds the other nodes over datagrams, every connection
// is authenticated (each side proves the key of its node id), and the node keeps a bounded set of
// connections (OverlayOptions::connections.max_peers), dialing the nodes it needs on demand (the
// nodes covering a region it routes gossip to, its fill's neighbours) and closing idle ones. It holds,
// for every gossip region inside its block (its id and radius; the radius is at least one region),
// an EpochStore: the partial tries of the region at the previous and latest epoch boundary and at the
// head.
//
// Peers: requests arrive from a node id (Overlay's Core::on_frame) and their answers go back over
// that node's authenticated connection (Overlay::reply); a node that closed it gets nothing and its
// request times out. Per-node state (strikes, offers, a fill's requests) is keyed by the node's local
// handle (dht::PeerHandles), one per node id, so it lasts across the node's connections; a strike's
// disconnect closes the node's connection (Overlay::disconnect). Pins (dht::Connections): the nodes a
// fill has sent requests to are not closed until the fill ends, nor the connections of the node's
// own neighbours (the table's contacts covering its block, at most half of max_peers; refreshed
// every 10 s) while they are: neither idleness nor eviction takes them.
//
// Serving (the retrieval primitives of the seed):
//  - GetChunks, full or leaf mode, at any root the region's store keeps (both epochs and the head),
//    for the account trie or a storage trie (the `account` field names the owner; the range is in
//    that trie's key space, i.e. storage_region of the region): answered by prefix::ChunkServer over
//    the store's nodes. A range no store covers gets 0x1 in every entry.
//  - GetDiff(fromRoot, toRoot, range): EpochStore::diff; 0x0 when a root is not kept, 0x1 outside.
//  - GetCode for code whose hash lies in the node's block.
//  - GetBareStorage (proto/mgr_messages.hpp): for one of its regions at a kept state root, the
//    leaves of many accounts' storage tries in that region without proofs, for every account with
//    at most `bare_leaves_max` leaves there (MGR.md's small tries stored bare); a larger part is
//    marked `large` and fetched with GetChunks and its proofs.
// A store that is being filled (a join, a refill, a radius growth: see join() and set_radius())
// refuses: requests it would answer get 0x0 (GetChunks, GetDiff, GetBareStorage: the root is not
// held), GetCode leaves out code in its region, and it offers nothing for its region.
// Gossip (Portal's OFFER/ACCEPT, per block):
//  - Content is a region item (mgr/region_item.hpp) or one code blob (its id is its hash). A node
//    accepts the offered ids it has not seen; on Content it checks the item against the block's
//    state root from its header source before it keeps or forwards any of it: an item for head+1 is
//    applied (EpochStore::apply verifies it), a later one waits (bounded), an older one is ignored.
//    A verified item is offered on to the contacts whose block covers the region (mgr/gossip_router.hpp
//    decides who: the routing table's and, outside the node's block, a DHT lookup's; an origin_only
//    node, at most origin_fanout of them per item).
//    Each held item is offered to a peer at most once. An item that fails verification is dropped and its sender gets a
//    strike; after `strikes_to_drop` strikes the sender is disconnected.
//  - Code is kept when its hash lies in the node's block and forwarded the same way.
// The node never opens a socket or reads a clock; time comes in with every call.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <carousel/dht/node_endpoint.hpp>
#include <carousel/dht/node_key.hpp>
#include <carousel/dht/overlay.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/proto/endpoint.hpp>
#include <carousel/proto/mgr_messages.hpp>
#include <carousel/state/code_store.hpp>

#include "epoch_store.hpp"
#include "gossip_router.hpp"
#include "header_book.hpp"
#include "header_poll.hpp"
#include "header_source.hpp"
#include "item_log.hpp"
#include "overlay_host.hpp"
#include "placement.hpp"
#include "region_fill.hpp"
#include "region_item.hpp"

namespace carousel::mgr {

struct NodeOptions {
    unsigned region_bits{253};   // gossip regions are the aligned blocks of 2^region_bits keys
    uint64_t epoch_length{256};  // E: a boundary every E blocks
    // Discovery, handshakes and the bounded set of connections (connections.max_peers).
    dht::OverlayOptions overlay;
    prefix::ServerOptions server;
    std::size_t max_waiting_items{1024};  // items for later blocks held until their turn
    unsigned strikes_to_drop{3};          // bad items before a sender is disconnected
    // GetBareStorage: a storage trie's part in a region with more leaves than this is `large`.
    std::size_t bare_leaves_max{64};
    // A gossip origin only (a bridge): it holds no stores and announces radius 0, so that no node
    // routes to it as a copy of a region or counts it as one (MgrNode::cover_gaps).
    bool origin_only{false};
    // An origin_only node offers each item to at most this many covering nodes, connected ones first
    // (mgr/gossip_router.hpp); they offer it on to their region.
    std::size_t origin_fanout{2};
    // How long a lookup's answer to "who covers this region" is used before it is asked again.
    proto::Time placement_refresh{std::chrono::seconds{60}};
    // The seq of the node's first record (EIP-778: a record with a higher seq replaces the one others
    // hold). A node that restarts, perhaps at another address, must start above every seq it announced
    // before: a process uses the wall clock in milliseconds (node/mgr_node_process.hpp).
    uint64_t record_seq{1};
    // The items applied to each store are kept for the last `item_log_blocks` blocks (unset: the
    // epoch length; 0: none), at most item_log_region_bytes per region, to answer GetItems: a
    // restarted neighbour catches up by them (ItemLog, MgrNode::resume).
    std::optional<uint64_t> item_log_blocks;
    uint64_t item_log_region_bytes{uint64_t{16} << 20};
};

struct NodeStats {
    uint64_t items_applied{0};
    uint64_t items_rejected{0};
    uint64_t items_ignored{0};  // old, duplicate, or for a region the node does not cover
    uint64_t code_kept{0};
    uint64_t offers_sent{0};
    uint64_t content_sent{0};        // Content frames
    uint64_t content_bytes_sent{0};  // their bytes
    uint64_t content_bytes_received{0};
    uint64_t chunk_requests{0};
    uint64_t diff_requests{0};
    uint64_t code_requests{0};
    uint64_t bare_requests{0};
    uint64_t items_requests{0};     // GetItems served
    uint64_t placement_lookups{0};  // lookups of who covers a region, for gossip
    uint64_t items_unplaced{0};     // items published for a region no contact covers (table, last lookup)
    uint64_t headers_accepted{0};   // gossiped headers new to the book
    uint64_t headers_rejected{0};   // gossiped headers the book refused (the sender is dropped)
    uint64_t header_requests{0};    // GetHeaders answered
};

// One region's store and the ChunkServer that answers GetChunks (full and leaf mode) over it; the first
// region's server also answers GetCode, from the node's code. The server points at the store and the
// code, not into the node's vector of RegionStores.
struct RegionStore {
    std::unique_ptr<EpochStore> store;
    std::unique_ptr<prefix::ChunkServer> server;
};

// What a resume's catch-ups by GetDiff cost and gave (MgrNode::resume; mgr/mgr_node_resume.cpp).
struct CatchUpStats {
    uint64_t items_requests{0};        // GetItems sent
    uint64_t items_bytes_received{0};  // Items frames taken (answers to a pending request), whole
    uint64_t items_applied{0};         // the blocks they brought, verified and applied
    uint64_t items_lacking{0};         // 0x1 answers: the neighbour's log does not reach the store's head
    uint64_t diff_requests{0};         // GetDiff sent
    uint64_t diff_bytes_sent{0};       // their frames
    uint64_t diff_bytes_received{0};   // DiffData frames taken (answers to a pending request), whole
    uint64_t presence_requests{0};     // GetBareStorage sent (is storage present in the region at H?)
    uint64_t rejected_answers{0};      // a DiffData or Items that failed verification (its peer struck)
    uint64_t errors{0};                // error answers (0x0: the neighbour lacks a root; ...)
    uint64_t timeouts{0};
    uint64_t caught_up{0};  // stores brought to the head by verified items or a verified diff
    uint64_t current{0};    // stores found at the head already (nothing to catch up)
    uint64_t refilled{0};   // stores handed to a fill (empty, out of the window, storage, failures)
};

// What filling stores from the neighbours cost a node, for one episode: its join (MgrNode::join), its
// resume after a restart (MgrNode::resume: refills of the stores it could not catch up by GetDiff), or
// a radius growth (MgrNode::set_radius; mgr/mgr_node_radius.cpp). A fill running when a new episode
// starts is abandoned (a restart of the old episode) and the new one fills every region not filled.
struct FillRecord {
    proto::Time started_at{0};             // join() or set_radius() was called
    std::optional<proto::Time> filled_at;  // every region of the episode was adopted (the first time)
    uint64_t filled_number{0};             // the block the last adopted fill was at
    uint64_t fills{0};                     // fills started: the first, restarts and refills
    uint64_t fills_adopted{0};
    uint64_t restarts{0};  // fills abandoned: their root was swept by a boundary, adopt failed, or the radius changed
    uint64_t refills{0};   // fills started because a store fell behind after a fill
    uint64_t store_bytes{0};         // the episode's stores' byte_size right after filled_at
    uint64_t offers_before_fill{0};  // a join: offers sent before it was filled (must be 0); a growth: 0
    std::vector<Region> regions;     // the regions the episode fills (a growth: only the new ones)
    FillStats fill;                  // summed over the episode's fills
    CatchUpStats catch_up;           // a resume (MgrNode::resume) only: its GetDiff catch-ups
};

class MgrNode final : public OverlayHost {
  public:
    // The node of `key`, reached at `endpoint`'s addresses, with `endpoint.radius`: its record (seq options.record_seq)
    // announces them. A radius smaller than a region is raised to one, except for an origin_only node,
    // which announces radius 0 and has no stores.
    MgrNode(const dht::KeyPair& key, dht::NodeEndpoint endpoint, NodeOptions options, HeaderSource headers);

    // Meets the network through a node whose record it was given (Overlay::bootstrap: a PING, so that
    // the two bond). look_up_self() then looks up its own id (Kademlia's join: the table fills with its
    // closest nodes, which learn it and its radius); again to refresh.
    void bootstrap(const dht::NodeRecord& bootnode, proto::Time now);
    void look_up_self(proto::Time now);

    // Fills the node's regions from a store holding the whole state at `root` (block `number`), and
    // keeps the blobs of `code` whose hash lies in its block: the network's genesis, before any gossip.
    // `owners` must be owners_of(full, root) (seeding many nodes reads them once); the overload
    // without reads them.
    tl::expected<void, std::string> seed(const trie::NodeStore& full, uint64_t number, const Hash& root,
                                         const Owners& owners, const std::vector<Bytes>& code);
    tl::expected<void, std::string> seed(const trie::NodeStore& full, uint64_t number, const Hash& root,
                                         const std::vector<Bytes>& code);

    // Persistence (mgr/node_datadir.hpp): makes `stores` the stores of their regions, with their
    // ChunkServers (the in-memory ones the constructor made go), keeps the blobs of `code` whose hash
    // lies in the block, and from now on writes every blob the node keeps to `durable_code` as well
    // (null: nowhere). Each store must be for a region of the node's block, with its epoch length
    // (else an error naming it, and nothing changes). For a node started on a datadir: with durable
    // stores that are empty, before seed() or join(); with reopened ones, in their place (catching up
    // from each store's head_number() is the driver's: GetDiff or a refill). A later set_radius()
    // makes in-memory stores for regions it adds.
    tl::expected<void, std::string> adopt_stores(std::vector<std::unique_ptr<EpochStore>> stores,
                                                 const std::vector<Bytes>& code, state::CodeStore* durable_code);

    // Grows the radius so that no block of keys beside the node's own is left without a node, by what
    // its routing table knows (dht::RoutingTable::covering_bits: the nodes closest to an empty block
    // store it, as Kademlia stores a key at the k closest nodes whatever their distance). Before
    // seed() it only places the stores (seed() fills every region); once seeded it grows as
    // set_radius() does, filling the new regions from the neighbours. Never shrinks. Returns the
    // radius now announced.
    dht::Radius cover_gaps(proto::Time now);

    // Gossip origin (the bridge): offers these items and code blobs to the contacts that cover them.
    // The node keeps nothing of them itself unless it covers them. `header`, when not empty, is the
    // items' block's signed header: it goes with the items (GossipRouter) and into the node's book.
    void publish(const std::vector<RegionItem>& items, const std::vector<Bytes>& codes, proto::Time now,
                 ByteView header = {});
    // A block's gossip handed in by the driver rather than by a peer (the bridge process's archive,
    // which must miss no block: it is what the network fills from): each piece is handled as Content
    // from no peer would be — checked against the header source, applied or held, offered on — and a
    // piece seen already is ignored.
    void deliver(const std::vector<RegionItem>& items, const std::vector<Bytes>& codes, proto::Time now,
                 ByteView header = {});

    // Headers from the network (a process, where no scenario hands the node its headers): the headers
    // gossiped with items are checked by `book` (signed by the trusted key; a refused one drops its
    // sender) and offered on with the items of their block, an item waiting for its header is applied
    // when it comes, and GetHeaders is answered from the book. The node also asks its table's contacts
    // in turn for the headers its book lacks (HeaderPoll, every `poll.interval`): after a restart or a join its book
    // is empty or old, and gossip brings headers only with items. The node's HeaderSource should be
    // book->source(). `book` outlives the node; without a call (the default) headers are ignored and
    // GetHeaders is answered with nothing.
    void take_headers(HeaderBook& book, HeaderPollOptions poll = {});

    dht::Overlay& overlay() override { return overlay_; }
    const dht::Overlay& overlay() const override { return overlay_; }
    const dht::NodeId& id() const noexcept { return overlay_.id(); }
    // The radius the node announces (its record's "rad").
    dht::Radius radius() const noexcept { return endpoint_.radius; }
    // Its signed record, as announced now.
    const dht::NodeRecord& record() const noexcept { return overlay_.record(); }
    Region covered() const noexcept { return covered_; }
    // One per region of the block.
    const std::vector<RegionStore>& stores() const noexcept { return stores_; }
    const state::MemoryCodeStore& code() const noexcept { return code_; }
    // The node's counters, with its router's (GossipStats) filled in.
    NodeStats stats() const noexcept;

    // Joining (mgr/mgr_node_join.cpp). For a node created mid-run, not seeded, that has met the network
    // (bootstrap()): looks up its own id (look_up_self()) and fills its stores from its neighbours at the header
    // source's latest block (mgr/region_fill.hpp), verifying everything it fetches. Until the fill is adopted its
    // stores refuse (above) and it offers nothing; gossip items that arrive meanwhile wait (bounded by
    // max_waiting_items) and are applied in order after it. A fill whose root a boundary has swept from the
    // neighbours starts again at the new head; once a node has filled (joined or grown), a store that falls more
    // than fill.refill_lag blocks behind with the next item missing is filled again. Call it once, before any
    // set_radius().
    void join(proto::Time now, FillOptions fill = {});
    // Whether any store is being filled (a join, a refill or a growth not adopted yet).
    bool filling() const noexcept { return !filling_.empty(); }
    // Whether the store of `region` is being filled or caught up (resume()): it refuses and its items wait.
    bool filling(const Region& region) const {
        return filling_.contains(region.first) || catching_.contains(region.first);
    }
    // Set once join() was called; `fill` includes the fill running now if the join is the latest episode.
    std::optional<FillRecord> join_stats() const;

    // Resuming after a restart or a kill -9 (mgr/mgr_node_resume.cpp; issue 20). For a node whose
    // stores came from adopt_stores() of a reopened datadir (NodeDatadir::open_stores), not seeded and
    // not joined, that has met the network (bootstrap()): call it once, in place of join(). It looks up
    // its own id (as join() does) and brings every store to the chain's head:
    //  - An empty store (a region the datadir held nothing for) is filled (RegionFill, as join() fills).
    //  - A store at block h waits until the header source knows a block after h (a store whose h is
    //    the latest block known, with the header's root, is current at once; one whose root differs
    //    from the header's is refilled). Then, with H the latest block known, three routes in turn:
    //  - Items: it asks a covering neighbour GetItems(the region, h + 1): the gossip items of blocks
    //    h+1.. that the neighbour applied and keeps (NodeOptions::item_log_blocks, an epoch by
    //    default; ItemLog). Each is applied as gossip is, EpochStore::apply against the header's root,
    //    so storage comes too, and it asks again from the new head until it reaches H. An item that
    //    fails (undecodable, not the next block of the region, or refused by apply) strikes its
    //    sender, which is not asked again for this store; the items before it stay applied (they
    //    verified). A neighbour whose log does not reach h + 1 (0x1) is not asked again for items.
    //  - Diff, once every covering neighbour was struck or lacks the items: when the neighbours
    //    still keep root(h) — h at or after H's epoch boundary, or h the boundary before it
    //    (EpochStore keeps both boundaries and every head since the latest) — it asks a covering
    //    neighbour GetDiff(root(h), root(H), the region's range) for the account trie. The answer is
    //    checked before anything is written: its keys lie in the range and increase, and the store's
    //    own leaves at h with the changes applied must be exactly the trie's leaves of the range at
    //    root(H) (verify_bounded_range_proof with the answer's proof, root(H) from the header
    //    source). The nodes that check rebuilds, with the proof, are the account partial trie at
    //    root(H); EpochStore::adopt checks them again and the store moves to H (as a fill's store: H
    //    is head and epoch). A DiffData carries the changed leaves of one trie, while a store also
    //    needs, at H, the owners present in its region with their proven storage roots and their
    //    storage partial tries, which GetDiff cannot give; so this route is taken only for a store
    //    that holds no owner at h, and, after the diff, only when a neighbour says with
    //    GetBareStorage that no owner is present in the region at root(H) (what a fill also takes on
    //    a neighbour's word).
    //  - Refill (RegionFill, at the head, its code the node's block) when neither route can: the
    //    store has storage or h is out of the diff's window, every covering neighbour was struck, or
    //    the catch-up has not finished within 12 request timeouts.
    //   A wrong answer strikes its sender; an error answer or a timeout (fill.request_timeout)
    //   pauses it for fill.retry_after.
    // Until a store is caught up or filled it refuses as a filling store does (filling(region)) and
    // its gossip items wait (bounded by max_waiting_items); then the waiting items after its head
    // apply in order. Afterwards a store that falls more than fill.refill_lag blocks behind with its
    // next item missing catches up again the same way (items, a diff, else a refill). Progress is
    // made on the node's frames and on its timer (core_deadline: a request's deadline, the end of a
    // pause, the catch-up's time limit). Counters: resume_stats().
    void resume(proto::Time now, FillOptions fill = {});
    // Whether a store is being caught up by items or a diff (resume()).
    bool catching_up() const noexcept { return !catching_.empty(); }
    // Set once resume() was called; `fill` includes the fill running now if the resume is the latest episode.
    std::optional<FillRecord> resume_stats() const;

    // Radius change (mgr/mgr_node_radius.cpp; issue 5: "Radius is a setting per node (and can shrink
    // to fit a storage budget)"). The node's block becomes region_of(id, radius), the radius raised to
    // one region and capped at 2^16 regions; the node re-signs its record with the new radius
    // (seq + 1) and PINGs every contact of its table with it (Overlay::set_record), so that its
    // neighbours learn it (gossip for new regions then comes here).
    //  - Shrink: the stores of regions outside the new block go, with their ChunkServers, waiting and
    //    held items, and the code whose hash lies outside it; nothing else changes. A fill running for
    //    dropped regions starts again over the regions still filling (if any).
    //  - Grow: each new region gets an empty store, filled from the neighbours at the head with
    //    RegionFill (code: the added part of the block) as join() fills, while the old regions keep
    //    serving and following gossip. Until the fill is adopted the new stores refuse (above) and
    //    their gossip items wait (bounded by max_waiting_items); restarts and refills as for a join. A
    //    fill already running (a join, a refill, an earlier growth) is abandoned and one fill starts
    //    over every region not filled.
    // The fill uses the FillOptions given to join() (else the defaults). Same radius: nothing happens.
    void set_radius(dht::Radius radius, proto::Time now);
    // Halves the radius (one bit less) while the stores' summed byte_size() exceeds `budget_bytes`,
    // never below one region, then set_radius(). Returns the radius now announced. A budget the
    // one-region store still exceeds leaves one region.
    dht::Radius shrink_to_fit(uint64_t budget_bytes, proto::Time now);
    // Set once set_radius() grew the block; the latest growth; `fill` includes the fill running now.
    std::optional<FillRecord> grow_stats() const;
    // The stores' summed byte_size().
    uint64_t store_bytes() const noexcept;

  private:
    // OverlayHost
    std::optional<proto::Time> core_deadline() const override;
    void on_core_timer(proto::Time now) override;
    void on_node_disconnected(const dht::NodeId& node, proto::Time now) override;
    // A frame from an authenticated node (Overlay's Core::on_frame), `from` its handle.
    void on_node_frame(proto::PeerId from, ByteView frame, proto::Time now);
    // The nodes in lost_ are gone (false: disconnected; true: unreachable): their fill requests fail,
    // their offers are forgotten, and a fill asks an unreachable one again only after its retry_after.
    // The Overlay's notices come inside its calls, even inside a send of the fill's pump: they wait in
    // lost_ for the next frame or timer.
    void take_lost(proto::Time now);
    // To the node named `peer` (OverlayHost::send_to); hides proto::Endpoint::send, which names a
    // driver's connection: this core names nodes only.
    bool send(proto::PeerId peer, Bytes frame) { return send_to(peer, std::move(frame)); }
    // Closes the connection of the node named `peer` (hides proto::Endpoint::disconnect, as send).
    void disconnect(proto::PeerId peer, const std::string& reason) { (void)drop(peer, reason); }
    // Takes the new radius: covered_, and a record with seq + 1 that the Overlay announces.
    void announce_radius(dht::Radius radius, proto::Time now);
    // Pins the table's contacts covering the node's block (at most half of max_peers), unpinning
    // those that no longer are.
    void pin_neighbours();
    // Unpins the nodes the fill has sent requests to.
    void unpin_fill_peers();

    // The message, or nullopt after disconnecting `from` ("mgr: bad <what>: <the decoder's error>").
    template <class Message>
    std::optional<Message> decoded(proto::PeerId from, proto::WireResult<Message> message, std::string_view what) {
        if (message) return std::move(*message);
        disconnect(from, "mgr: bad " + std::string{what} + ": " + std::string{proto::to_string(message.error())});
        return std::nullopt;
    }
    EpochStore* store_for(const Region& region);
    // `store` with a ChunkServer over it and the node's code.
    RegionStore serve(std::unique_ptr<EpochStore> store) const;
    // Keeps a code blob (its hash lies in the block), in durable_code_ too.
    void keep_code(const Hash& hash, ByteView code);
    // The store whose region (`account`: that account's storage_region of it) holds `key`; null if none.
    RegionStore* store_for_key(const std::optional<Hash>& account, const Hash& key);
    void on_get_chunks(proto::PeerId from, ByteView frame);
    void on_get_diff(proto::PeerId from, ByteView frame);
    void on_get_code(proto::PeerId from, ByteView frame);
    void on_get_headers(proto::PeerId from, ByteView frame);
    void on_headers(proto::PeerId from, ByteView frame, proto::Time now);
    // Sends HeaderPoll's request, if one is due, to the next of the table's contacts (builds the list
    // only then).
    void poll_headers(proto::Time now);
    // A gossiped header (Content of kind kHeader).
    void on_header(proto::PeerId from, const Hash& id, Bytes payload, proto::Time now);
    void on_get_bare_storage(proto::PeerId from, ByteView frame);
    void on_get_items(proto::PeerId from, ByteView frame);
    void on_content(proto::PeerId from, ByteView frame, proto::Time now);
    // One piece of gossip, from `from` (0: the driver, deliver()), of `kind`.
    void on_content_payload(proto::PeerId from, proto::ContentKind kind, Bytes payload, proto::Time now);
    void on_region_item(proto::PeerId from, const Hash& id, Bytes payload, proto::Time now);
    void apply_waiting(EpochStore& store, proto::Time now);
    void strike(proto::PeerId peer, const std::string& reason);
    // Whether `key` lies in a region whose store is being filled.
    bool filling_key(const Hash& key) const;
    // Makes the stores exactly those of `block`'s regions: keeps the stores (and servers) of regions
    // in it, drops the others with their waiting and held items, and creates empty ones for the new
    // regions, which it returns (mgr/mgr_node_radius.cpp).
    std::vector<Region> place_stores(const Region& block);
    // Filling (mgr/mgr_node_join.cpp). Handles the answers to a fill (ChunkData, CodeData; late ones
    // are dropped); false for other frames, and for these when the node never filled.
    bool on_fill_frame(proto::PeerId from, ByteView frame, proto::Time now);
    // Starts a fill at the head of every region in filling_, fetching the code of fill_code_regions_.
    void start_fill(proto::Time now);
    // Drops the running fill, if any, counted as a restart of the current episode.
    void abandon_fill();
    // Abandons the running fill and starts one over every region in filling_.
    void restart_fill(proto::Time now);
    void pump_join(proto::Time now);
    void finish_fill(proto::Time now);
    uint64_t latest_header();
    // The episode the running fill is charged to: the latest growth, else the join, else the resume.
    FillRecord* episode();
    // Resuming (mgr/mgr_node_resume.cpp).
    struct CatchUp {
        enum class Stage : uint8_t { kItems, kDiff, kPresence } stage{Stage::kItems};
        proto::Time since{0};
        uint64_t to_number{0};  // H: set when a GetDiff is sent
        Hash to_root{};
        std::vector<Bytes> nodes;         // kPresence: the verified account partial trie at to_root
        std::optional<uint64_t> request;  // in flight: its id, peer and deadline
        proto::PeerId peer{0};
        proto::Time deadline{0};
        std::set<proto::PeerId> struck;               // answered wrong: not asked again
        std::map<proto::PeerId, proto::Time> paused;  // error or timeout: not before then
        std::set<proto::PeerId> lacking;              // kItems: its log does not reach the store's head
        proto::Time next_try{0};                      // nobody could be asked: try again then (the table may know more)
    };
    // Advances every catch-up: starts those whose store a newer header shows behind, expires
    // requests, sends, hands to a fill what cannot be caught up; and starts catch-ups of stores that
    // fell behind. Called first thing in pump_join().
    void pump_resume(proto::Time now);
    // Handles DiffData and the resume's BareStorage answers; false for other frames.
    bool on_resume_frame(proto::PeerId from, ByteView frame, proto::Time now);
    void on_catch_up_diff(proto::PeerId from, ByteView frame, proto::Time now);
    void on_catch_up_presence(proto::PeerId from, const proto::BareStorage& answer, proto::Time now);
    void on_catch_up_items(proto::PeerId from, ByteView frame, proto::Time now);
    // Whether no covering neighbour of `region` is left to ask at the catch-up's stage: each was
    // struck, or (kItems) lacks the items. False while none is known.
    bool neighbours_spent(const Hash& region, const CatchUp& c, proto::Time now);
    // Sends the next request of `region`'s catch-up to a covering neighbour; false when none can be asked now.
    bool send_catch_up(const Hash& region, CatchUp& c, proto::Time now);
    // Ends `region`'s catch-up: the store is filled instead (`why` for the record).
    void catch_up_by_fill(const Hash& region, proto::Time now);
    // Ends `region`'s catch-up with the store at the head: the waiting items after it apply.
    void caught_up(const Hash& region, proto::Time now);
    // Sets resume_->filled_at once no store is caught up or filled.
    void note_resumed(proto::Time now);
    // The earliest moment a catch-up has something to do without a frame: a request's deadline, the
    // end of a neighbour's pause, a catch-up's time limit; nullopt when none is running.
    std::optional<proto::Time> resume_deadline() const;

    dht::KeyPair key_;
    dht::NodeEndpoint endpoint_;  // what the record announces (the radius included)
    uint64_t seq_;                // the record's
    Region covered_;
    NodeOptions options_;
    HeaderSource headers_;
    HeaderBook* book_{nullptr};
    std::optional<HeaderPoll> header_poll_;  // asks the table's contacts in turn (take_headers)
    dht::Overlay overlay_;
    GossipRouter router_;
    std::map<proto::PeerId, bool> lost_;
    std::set<dht::NodeId> neighbour_pins_;
    std::set<dht::NodeId> fill_pins_;
    proto::Time next_pin_refresh_{0};  // who is offered what this node holds
    std::vector<RegionStore> stores_;
    state::MemoryCodeStore code_;
    state::CodeStore* durable_code_{nullptr};  // adopt_stores()
    // Items for later blocks, by (region first key, block).
    std::map<std::pair<Hash, uint64_t>, std::pair<proto::PeerId, RegionItem>> waiting_;
    ItemLog item_log_;  // the items applied, for GetItems
    std::map<proto::PeerId, unsigned> strikes_;
    NodeStats stats_;
    // Filling (a join, a refill, a growth).
    std::set<Hash> filling_;                 // first keys of the regions whose stores are being filled
    std::vector<Region> fill_code_regions_;  // the code the fill of filling_ fetches
    std::optional<FillRecord> join_;
    std::optional<FillRecord> grow_;
    std::optional<FillRecord> resume_;
    std::map<Hash, CatchUp> catching_;  // by the region's first key
    uint64_t next_catch_up_request_{(uint64_t{1} << 62) + 1};
    FillOptions fill_options_;
    std::unique_ptr<RegionFill> fill_;
    uint64_t known_head_{0};
};

}  // namespace carousel::mgr
