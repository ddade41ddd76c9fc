// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// RegionFill: how a Merry-Go-Round node that joins the DHT, refills after falling behind, or grows
// its radius fills its regions' stores from its neighbours, sans-IO (issue 5: "fills its range from
// its neighbours with the same retrieval calls a syncing client uses"). MgrNode embeds it
// (MgrNode::join, MgrNode::set_radius).
//
// The fill works at one state root R of block h, from the node's trusted header source (the head
// when the fill starts: neighbours serve any root whose nodes they hold — the kept epochs, and every
// head since the latest boundary, until the next boundary's sweep). It fetches, with GetChunks (and
// GetBareStorage for step 3's presence):
//  1. Each region's account partial trie (mgr/partial_trie.hpp) in full sub-trie mode: the range
//     path_range(region) at R, cut answers continued from their stopPath with kFlagSkipStem.
//  2. The account leaves of every other region in leaf mode with their edge proofs, checked with
//     trie::verify_range_proof / verify_bounded_range_proof as MgrSync's walk checks them: they give
//     every owner (account with a non-empty storage root) with its proven storage root; the owners
//     inside the node's regions come from the partial tries of step 1.
//  3. For each region, which owners' storage tries are present there (have a leaf in
//     storage_region(region, a)): a GetBareStorage walk over the region at R, whose entries name them
//     (mgr/epoch_store.hpp keeps only those), run from the start, while the neighbours still keep R
//     as their head or one of the heads just before it. Then for each present owner a, the storage partial
//     trie path_range(storage_region(region, a)) at a's storage root, in full mode, as in step 1.
//     Presence is what the neighbours say: a neighbour that leaves an owner out is not caught here
//     (the store would lack that part, and a client rebuilding that trie's root would find it out).
//  4. The code whose hash lies in one of the `code_regions` (the node's block for a join; the part a
//     radius growth added), by GetCode, each blob checked by its hash. A blob
//     that every covering neighbour was asked for and none sent is given up (code_unavailable):
//     the fill does not wait forever for what the network lost.
// Verification: each partial trie is fetched through the trie layer's node acceptor
// (trie::TrieSync restricted to the range, trie/trie_sync.hpp): a full-mode answer is accepted only
// if every node in it is referenced by an accepted node of that trie (or by an earlier node of the
// same answer, or is the root the fill trusts: R, or a storage root read from a verified account
// leaf) and decodes; otherwise the whole answer is dropped. When a server says a range is complete
// (no stopPath), the acceptor must hold every node of the partial trie. Leaf answers are range proofs against R. So
// every node kept links to R, and a wrong or incomplete answer is caught where it comes in: its peer is not asked again
// during this fill, is reported through `strike`, and its range goes to another neighbour covering it. Nothing of a
// rejected answer is kept.
//
// Cost, stated plainly: a region's store is its partial tries (roughly 1/regions of the account
// trie and of every storage trie present there, plus the stems). The fill fetches those nodes once,
// plus every account leaf outside the node's regions with edge proofs (about 110 bytes an account:
// they prove every owner's storage root), the presence walks' bare leaves, plus code. With 4 regions and 2k accounts
// that is measured at about 1.5–2× the store's byte_size (the scenario reports fill_bytes / store_bytes); the account
// leaves dominate as the state grows relative to the region. Cheaper would be a protocol message listing owners with a
// proof, which the seed does not have.
//
// Bounds: at most `max_in_flight` requests (and `max_in_flight_per_peer` per peer), each answer at
// most `max_response_bytes` (asked) and proto's caps (decoded); an answer with more than one entry,
// or one whose stopPath does not move forward (in pre-order) within the range, is rejected.
// Memory: only verified nodes of the true trie are held.
//
// Limitations: the walk of a region must not be the whole key space (region_bits 256), whose
// empty-prefix answers come level by level; the fill then restarts ranges it cannot continue. A
// restarted fill (new root) fetches everything again; nodes of unchanged subtrees are not reused.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/dht/contact.hpp>
#include <carousel/dht/peer_pool.hpp>
#include <carousel/proto/endpoint.hpp>
#include <carousel/trie/node_store.hpp>
#include <carousel/trie/path_range.hpp>
#include <carousel/trie/trie_sync.hpp>

#include "placement.hpp"

namespace carousel::mgr {

struct FillOptions {
    uint64_t max_response_bytes{256 * 1024};  // maxSize of every GetChunks
    std::size_t max_in_flight{32};
    std::size_t max_in_flight_per_peer{8};
    // A request's deadline: request_timeout plus the time the bytes that may be outstanding (every
    // request in flight at max_response_bytes) take at the receive rate seen so far (at least
    // min_rate bytes/s), so that a slow link is not taken for silent peers.
    proto::Time request_timeout{std::chrono::seconds{5}};
    uint64_t min_rate{32 * 1024};
    // A peer that answered 0x0/0x1/0x2 (it does not hold the root yet, or the range) or timed out
    // is not asked again for this long.
    proto::Time retry_after{std::chrono::seconds{1}};
    proto::Time tick{std::chrono::milliseconds{200}};  // retry pace while no peer can be asked
    // A filled node refills when a store is more than this many blocks behind the header source's
    // head and the next item is not waiting (it missed gossip, e.g. its buffer overflowed).
    uint64_t refill_lag{3};
    std::size_t max_code_hashes_per_request{64};
};

struct FillStats {
    uint64_t bytes_received{0};  // answer frames taken (ChunkData, CodeData), whole
    uint64_t bytes_sent{0};      // request frames
    uint64_t chunk_requests{0};
    uint64_t bare_requests{0};  // GetBareStorage: which owners are present in a region
    uint64_t code_requests{0};
    uint64_t rejected_answers{0};  // failed verification (the peer was struck)
    uint64_t incomplete{0};        // ranges a server called complete that were not
    uint64_t timeouts{0};
    uint64_t errors{0};  // error entries (0x0, 0x1, 0x2, 0x4)
    uint64_t owners{0};
    uint64_t nodes_accepted{0};
    uint64_t code_bytes{0};
    uint64_t code_unavailable{0};  // blobs no covering neighbour had (given up: they cannot be verified absent)
};

// What a finished fill verified for one region, in the form EpochStore::adopt takes.
struct FilledRegion {
    Region region;
    std::vector<Bytes> account_nodes;  // the account partial trie, each node once
    std::vector<std::pair<Hash, Hash>>
        owners;                        // the owners present in the region, increasing, with their storage roots
    std::vector<Bytes> storage_nodes;  // the owners' storage partial tries, each node once
};

class RegionFill {
  public:
    using SendFn = std::function<void(proto::PeerId to, Bytes frame)>;
    // The contacts whose block covers a position (the routing table's covering()).
    using PeersFn = std::function<std::vector<dht::Contact>(const Hash& position)>;
    using StrikeFn = std::function<void(proto::PeerId peer, const std::string& reason)>;

    // Fills `regions` (aligned blocks of 2^region_bits keys) at `root`, the state root of block
    // `number`, and fetches the code whose hash lies in one of `code_regions`. Request ids count up from
    // `first_request_id` (a later fill of the same node starts elsewhere, so that a late answer to an
    // abandoned fill is not taken for one of its own). Sends nothing until pump().
    RegionFill(std::vector<Region> regions, std::vector<Region> code_regions, unsigned region_bits, uint64_t number,
               const Hash& root, FillOptions options, SendFn send, PeersFn peers, StrikeFn strike,
               uint64_t first_request_id = 1);

    uint64_t number() const noexcept { return number_; }
    const Hash& root() const noexcept { return root_; }
    // Everything fetched and verified.
    bool done() const noexcept;
    const FillStats& stats() const noexcept { return stats_; }

    // Sends what the window allows.
    void pump(proto::Time now);
    // A ChunkData, BareStorage or CodeData frame: true if it answers a request of this fill (then it
    // is verified and taken or rejected here); false otherwise (not this fill's, or another type).
    bool on_frame(proto::PeerId from, ByteView frame, proto::Time now);
    // `peer`'s requests fail; when it was `unreachable` (a dial failed) it is paused for retry_after,
    // so the next pump asks another covering node rather than dialing it again at once.
    void on_disconnect(proto::PeerId peer, bool unreachable, proto::Time now);
    std::optional<proto::Time> next_deadline() const;
    // Expires requests and pumps.
    void on_timer(proto::Time now);

    // After done(): the verified partial tries of each region, and the code blobs of code_regions.
    std::vector<FilledRegion> take_regions() const;
    std::vector<Bytes> take_code();

  private:
    // One partial trie to fetch in full mode: the account trie (no account) or a storage trie.
    // Its nodes are accepted by a trie::TrieSync restricted to the range, over a FetchStore.
    struct TrieFetch {
        std::optional<Hash> account;
        Hash root{};
        trie::PathRange range;
        Hash position{};              // whom to ask: the nodes covering this position (the region's)
        std::optional<Nibbles> from;  // continue here (with kFlagSkipStem); nullopt: from range.from
        bool complete{false};
        bool busy{false};
        std::unique_ptr<trie::NodeStore> store;  // the verified pool as this fetch sees it
        std::unique_ptr<trie::TrieSync> sync;    // null when the trie is empty
    };
    // The account leaves of a region outside the node's regions, [region.first, cursor) verified.
    struct AccountWalk {
        Region region;
        std::optional<Hash> cursor;  // nullopt: complete
        bool busy{false};
    };
    // Step 3's walk over one region's owners: which are present there.
    struct PresenceWalk {
        std::optional<Hash> from{Hash{}};  // the next owner to ask from; nullopt: walked to the end
        std::set<Hash> present;
        bool busy{false};
    };
    struct Request {
        enum class Kind : uint8_t { kTrie, kLeaves, kCode, kPresence } kind{Kind::kTrie};
        proto::PeerId peer{0};
        dht::PeerPool::Ticket ticket{};  // its slot and deadline in pool_
        std::size_t index{0};            // into tries_, walks_ or presence_
        Hash origin{};                   // leaves: first key asked
        Hash limit{};                    // leaves: last key of the region
        std::vector<Hash> codes;
    };

    bool send_trie(std::size_t index, proto::Time now);
    bool send_leaves(std::size_t index, proto::Time now);
    bool send_code(proto::Time now);
    bool send_presence(std::size_t region, proto::Time now);
    // Step 3's fetch of a present owner's storage partial trie in region `region` (none for an
    // account that is no owner at the root).
    void add_storage_fetch(std::size_t region, const Hash& account);
    void on_bare_storage(proto::PeerId from, const Request& r, ByteView frame, proto::Time now);
    // The covering peer to ask about `position` (usable, the fewest requests in flight below the cap).
    std::optional<proto::PeerId> pick(const Hash& position, proto::Time now) const;
    void pump_round(proto::Time now);  // pump()'s work, with pick() memoized
    static dht::PeerPoolOptions pool_options(const FillOptions& options, uint64_t first_request_id);
    // A fetch of the partial trie `range` of the trie at `root`, its nodes accepted by a TrieSync.
    TrieFetch make_fetch(std::optional<Hash> account, const Hash& root, trie::PathRange range, const Hash& position);
    void track(uint64_t id, Request r, proto::Time now);
    void release(const Request& r);
    // A wrong answer: the peer is struck and not asked again in this fill.
    void reject(proto::PeerId peer, const std::string& reason);
    void on_chunk_data(proto::PeerId from, const Request& r, ByteView frame, proto::Time now);
    void on_trie_entry(proto::PeerId from, const Request& r, ByteView frame, proto::Time now);
    void on_leaf_entry(proto::PeerId from, const Request& r, ByteView frame, proto::Time now);
    void on_code_data(proto::PeerId from, const Request& r, ByteView frame, proto::Time now);
    // An account leaf verified at the root: its owner entry and code need.
    bool note_account(const Hash& key, ByteView value);
    // Once the account tries and walks are complete: the owners' storage fetches and the code.
    void start_storage();
    std::vector<Bytes> partial_nodes(const Hash& root, const trie::PathRange& range) const;

    std::vector<Region> regions_;
    std::vector<Region> code_regions_;
    unsigned region_bits_;
    uint64_t number_;
    Hash root_;
    FillOptions options_;
    SendFn send_;
    PeersFn peers_;
    StrikeFn strike_;

    std::vector<TrieFetch> tries_;  // the regions' account tries first, then storage tries
    std::vector<AccountWalk> walks_;
    std::vector<PresenceWalk> presence_;  // per region, from the start (root_ is then likely still kept)
    bool storage_started_{false};
    std::size_t first_open_{0};  // tries_ before this are complete

    // Verified nodes of complete subtrees (within their fetch's range), all linking to root_: each
    // fetch's TrieSync writes here. Behind a pointer, so that the fetches' stores keep it when the
    // fill moves.
    struct Verified {
        trie::MemoryNodeStore pool;
        std::unordered_set<Hash, trie::HashHasher> held;
    };
    std::unique_ptr<Verified> verified_{std::make_unique<Verified>()};

    std::map<Hash, Hash> owners_;  // account -> storage root (non-empty)
    std::set<Hash> code_wanted_;
    std::set<Hash> code_asked_;
    std::map<Hash, std::set<proto::PeerId>> code_tried_;  // who was asked for a blob and did not send it
    std::map<Hash, Bytes> code_;

    std::map<uint64_t, Request> requests_;
    // Request ids, each peer's requests in flight (at most max_in_flight_per_peer), deadlines with
    // the queue at the receive rate, peers paused (retry_after) and banned (one wrong answer).
    dht::PeerPool pool_;
    proto::Time next_tick_{0};
    // During pump(): the covering contacts of each position asked so far, so that one pump asks the
    // contact source once per position, not once per trie (a region's storage tries share its
    // position: thousands of them). Empty outside pump().
    mutable std::map<Hash, std::vector<dht::Contact>> pump_covering_;
    bool pumping_{false};
    FillStats stats_;
};

}  // namespace carousel::mgr
