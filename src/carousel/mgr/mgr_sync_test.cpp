// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// MgrSync driven by hand, in the manner of go-ethereum's eth/protocols/snap/sync_test.go: scripted
// peers answer its requests (honestly, with altered leaves, with nothing, with an error, or not in
// time), and the tests check what it asks, of whom, and whom it strikes. The state is a few
// accounts without storage or code in one region (region_bits 256), so a whole sync is one leaf
// range: an answer with every leaf and no proof is checked by rebuilding the root.
//
// MgrSyncOnNodes: the client on a small network of MgrNodes and a bridge, its chain its own
// HeaderBook filled from the network (take_headers, book_chain), as in a process.

#include "mgr_sync.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/state/account.hpp>
#include <carousel/store/memory_kv.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/testing/temp_dir.hpp>
#include <carousel/trie/node_store.hpp>
#include <carousel/trie/trie.hpp>

#include "mgr_node.hpp"
#include "overlay_testing.hpp"
#include "signed_header.hpp"

namespace carousel::mgr {
namespace {

using namespace std::chrono_literals;
using proto::PeerId;
using proto::Time;

constexpr uint64_t kHead = 16;  // a boundary (epoch_length 16): the client syncs at its root

struct State {
    std::map<Hash, Bytes> leaves;
    Hash root{};
};

State make_state(std::size_t accounts) {
    State s;
    trie::Trie t;
    for (std::size_t i = 0; i < accounts; ++i) {
        const uint8_t seed[1] = {static_cast<uint8_t>(i)};
        const Hash key = keccak256(ByteView{seed, 1});
        state::Account a;
        a.nonce = i + 1;
        s.leaves[key] = state::encode_account(a);
        (void)t.put(ByteView{key.data(), key.size()}, s.leaves[key]);
    }
    s.root = t.root();
    return s;
}

// A request the client sent: to whom, and what (only GetChunks is decoded).
struct Sent {
    PeerId to{0};
    proto::MessageType type{};
    std::optional<proto::GetChunks> chunks;
};

// The client on LocalNet with scripted nodes covering every key (named 7, 8, ... by the tests):
// they bond with the client through Discovery (it bootstraps through each), the client dials them,
// and every frame it sends them after the handshake is recorded; their answers are the tests'.
struct Harness {
    State state = make_state(5);
    testing::OverlayNet onet{1ms};
    MgrSync sync;
    PeerId sync_peer{0};
    std::map<PeerId, std::unique_ptr<testing::ScriptedNode>> nodes;  // by name
    std::map<dht::NodeId, PeerId> names;
    std::map<PeerId, PeerId> net_ids;  // name -> LocalNet id
    std::vector<Sent> sent;            // every frame the nodes got from the client, in order

    explicit Harness(unsigned strikes_to_ban = 2, store::KV* leaf_kv = nullptr)
        : sync(testing::test_key(1), onet.next_endpoint(0), options(strikes_to_ban, leaf_kv),
               ChainView{[] { return kHead; },
                         [this](uint64_t n) -> std::optional<Hash> {
                             if (n == kHead) return state.root;
                             return std::nullopt;
                         }}) {
        sync_peer = onet.add(sync);
    }

    static MgrSyncOptions options(unsigned strikes_to_ban, store::KV* leaf_kv) {
        MgrSyncOptions o;
        o.leaf_kv = leaf_kv;
        o.region_bits = 256;  // one region: the whole key space
        o.epoch_length = 16;
        o.strikes_to_ban = strikes_to_ban;
        return o;
    }

    Time now() const { return onet.net.now(); }

    // A node named `name`, covering every key, joins; the client bootstraps through it.
    void connect(PeerId name) {
        auto node = std::make_unique<testing::ScriptedNode>(testing::test_key(100 + name), onet.next_endpoint(256));
        node->on_received = [this, name](const testing::ScriptedNode::Received& r) {
            const auto type = proto::frame_type(r.frame);
            if (!type) return;
            Sent s{name, *type, std::nullopt};
            if (*type == proto::MessageType::kGetChunks) {
                auto m = proto::decode_get_chunks(r.frame);
                if (m) s.chunks = *m;
            }
            sent.push_back(std::move(s));
        };
        net_ids[name] = onet.add(*node);
        names[node->overlay().id()] = name;
        onet.net.post(sync_peer, [this, record = node->record()] { sync.bootstrap(record, now()); });
        nodes[name] = std::move(node);
    }

    // Moves the clock to `t`, running everything due on the way.
    void advance(Time t) { onet.net.run_until(t); }

    // Connects `peers`, runs a second, and returns the one request the client made by then.
    Sent start(std::initializer_list<PeerId> peers) {
        for (PeerId p : peers) connect(p);
        advance(1s);
        const auto asked = chunk_requests();
        EXPECT_EQ(asked.size(), 1u);
        return asked.at(0);
    }

    // Runs the clock to `t` and returns the second request, which must have been made by then.
    Sent retry(Time t) {
        advance(t);
        const auto asked = chunk_requests();
        EXPECT_EQ(asked.size(), 2u);
        return asked.at(1);
    }

    // The GetChunks requests sent so far.
    std::vector<Sent> chunk_requests() const {
        std::vector<Sent> out;
        for (const Sent& s : sent) {
            if (s.chunks) out.push_back(s);
        }
        return out;
    }

    // Every leaf, no proof: the honest answer to the one range.
    proto::ChunkEntry honest() const {
        proto::ChunkEntry e;
        e.leaf_mode = true;
        for (const auto& [k, v] : state.leaves) {
            e.keys.push_back(k);
            e.values.push_back(v);
        }
        return e;
    }

    // Answers `request` honestly and runs the clock to `t`: the client is synced at the state's root.
    void finish(const Sent& request, Time t) {
        answer(request, honest());
        advance(t);
        EXPECT_TRUE(sync.synced());
        EXPECT_EQ(sync.state_root(), state.root);
    }

    // Node `request.to` answers over its connection to the client; the answer arrives.
    void answer(const Sent& request, proto::ChunkEntry e) {
        e.prefix = request.chunks->prefixes.empty() ? Nibbles{} : request.chunks->prefixes.front();
        testing::ScriptedNode& node = *nodes.at(request.to);
        Bytes frame = proto::encode(proto::ChunkData{request.chunks->request_id, {std::move(e)}});
        onet.net.post(net_ids.at(request.to),
                      [this, &node, frame = std::move(frame)] { node.reply(sync.overlay().id(), frame, now()); });
        advance(now() + 10ms);
    }
};

TEST(MgrSyncScripted, AsksTheCoveringNodeForTheRegionAndSyncsOnAnHonestAnswer) {
    Harness h;
    const Sent asked = h.start({7});
    EXPECT_EQ(asked.to, 7u);
    EXPECT_EQ(asked.chunks->root, h.state.root);
    EXPECT_TRUE(asked.chunks->is_range);
    EXPECT_FALSE(asked.chunks->account);
    h.finish(asked, 2s);
    EXPECT_EQ(h.sync.accounts(), h.state.leaves.size());
    EXPECT_EQ(h.sync.stats().rejected_answers, 0u);
    EXPECT_EQ(h.sync.stats().banned_peers, 0u);
    EXPECT_EQ(h.chunk_requests().size(), 1u);  // nothing asked twice
}

TEST(MgrSyncScripted, ALyingNodeIsStruckAndTheRangeGoesToAnother) {
    Harness h{/*strikes_to_ban=*/1};
    const Sent first = h.start({7, 8});
    const PeerId liar = first.to;
    const PeerId honest = liar == 7 ? 8 : 7;
    proto::ChunkEntry altered = h.honest();
    altered.values[2].back() ^= 1;
    h.answer(first, altered);
    EXPECT_EQ(h.sync.stats().rejected_answers, 1u);
    EXPECT_EQ(h.sync.stats().banned_peers, 1u);
    const Sent again = h.retry(2s);
    EXPECT_EQ(again.to, honest);  // the liar is banned: never asked again
    EXPECT_EQ(again.chunks->root, h.state.root);
    h.finish(again, 3s);
}

TEST(MgrSyncScripted, AnEmptyAnswerIsAStrikeNotAnEmptyState) {
    Harness h;  // two strikes to a ban
    const Sent first = h.start({7});
    proto::ChunkEntry empty;
    empty.leaf_mode = true;
    h.answer(first, empty);
    EXPECT_EQ(h.sync.stats().rejected_answers, 1u);
    EXPECT_EQ(h.sync.stats().banned_peers, 0u);
    EXPECT_FALSE(h.sync.synced());
    // One strike: it is asked again, and a second empty answer bans it.
    const Sent again = h.retry(2s);
    EXPECT_EQ(again.to, 7u);
    h.answer(again, empty);
    EXPECT_EQ(h.sync.stats().banned_peers, 1u);
    h.advance(3s);
    EXPECT_EQ(h.chunk_requests().size(), 2u);  // nobody left to ask
}

TEST(MgrSyncScripted, ANodeBehindTheChainIsPausedNotStruck) {
    Harness h;
    const Sent first = h.start({7, 8});
    proto::ChunkEntry unknown;
    unknown.error = proto::ChunkError::kUnknownRoot;
    h.answer(first, unknown);
    EXPECT_EQ(h.sync.stats().errors, 1u);
    EXPECT_EQ(h.sync.stats().rejected_answers, 0u);
    const Sent again = h.retry(2s);
    EXPECT_NE(again.to, first.to);  // paused for a while: the other node is asked
    h.finish(again, 3s);
    EXPECT_EQ(h.sync.stats().banned_peers, 0u);
}

TEST(MgrSyncScripted, ALateAnswerIsATimeoutAndIsNotTaken) {
    Harness h{/*strikes_to_ban=*/1};
    const Sent slow = h.start({7, 8});
    // No answer: past its deadline (request_timeout, 5 s, and its 32 KB budget at the minimum rate
    // of 1 KB/s: 37 s) it times out, the node is struck (banned at one strike) and the other is
    // asked.
    h.advance(36s);
    EXPECT_EQ(h.sync.stats().timeouts, 0u);
    const Sent again = h.retry(40s);
    EXPECT_EQ(h.sync.stats().timeouts, 1u);
    EXPECT_EQ(h.sync.stats().banned_peers, 1u);
    EXPECT_NE(again.to, slow.to);
    // The slow node's answer now is to no request: not taken, not counted.
    h.answer(slow, h.honest());
    EXPECT_FALSE(h.sync.synced());
    EXPECT_EQ(h.sync.stats().rejected_answers, 0u);
    h.finish(again, 41s);
    EXPECT_EQ(h.sync.stats().timeouts, 1u);
}

TEST(MgrSyncScripted, ARegionWhoseOnlyNodeIsBannedEndsTheSyncNamingIt) {
    Harness h{/*strikes_to_ban=*/1};
    const Sent first = h.start({7});
    proto::ChunkEntry altered = h.honest();
    altered.keys.pop_back();
    altered.values.pop_back();
    h.answer(first, altered);
    EXPECT_EQ(h.sync.stats().banned_peers, 1u);
    // Unserved for less than unserved_timeout (3 minutes): the sync waits.
    h.advance(3min);
    EXPECT_TRUE(h.sync.failure().empty());
    h.advance(4min);
    EXPECT_NE(h.sync.failure().find("no honest node serves region"), std::string::npos) << h.sync.failure();
    EXPECT_NE(h.sync.failure().find("1 covering nodes known: 1 banned"), std::string::npos) << h.sync.failure();
    EXPECT_EQ(h.chunk_requests().size(), 1u);
}

// The same sync (a liar struck and banned, the range asked again of the other node) with its leaves
// in a KV, over MemoryKV and over RocksKV, makes the same requests and ends with the same state as
// with its leaves in memory.
TEST(MgrSyncScripted, LeavesInAKvGiveTheSameSyncAsLeavesInMemory) {
    struct Outcome {
        bool synced{false};
        Hash root{};
        std::size_t accounts{0};
        uint64_t raw_bytes{0};
        uint64_t rejected{0};
        uint64_t banned{0};
        uint64_t bytes_received{0};
        std::vector<std::pair<PeerId, proto::MessageType>> sent;
        std::string failure;
        bool operator==(const Outcome&) const = default;
    };
    const auto run = [](store::KV* kv) {
        Harness h{/*strikes_to_ban=*/1, kv};
        const Sent first = h.start({7, 8});
        proto::ChunkEntry altered = h.honest();
        altered.values[1].back() ^= 1;
        h.answer(first, altered);
        h.finish(h.retry(2s), 3s);
        Outcome o{h.sync.synced(),
                  h.sync.state_root(),
                  h.sync.accounts(),
                  h.sync.raw_bytes(),
                  h.sync.stats().rejected_answers,
                  h.sync.stats().banned_peers,
                  h.sync.stats().bytes_received,
                  {},
                  h.sync.failure()};
        for (const Sent& s : h.sent) o.sent.emplace_back(s.to, s.type);
        return o;
    };
    const Outcome in_memory = run(nullptr);
    EXPECT_TRUE(in_memory.synced);
    EXPECT_EQ(in_memory.accounts, 5u);
    EXPECT_EQ(in_memory.banned, 1u);
    store::MemoryKV memory_kv;
    const Outcome on_memory_kv = run(&memory_kv);
    EXPECT_TRUE(on_memory_kv == in_memory);
    EXPECT_EQ(memory_kv.entry_count(store::Column::kAccountLeaves), 5u);
    store::TempDir dir{"carousel-mgr-sync-"};
    std::unique_ptr<store::RocksKV> rocks;
    ASSERT_TRUE(store::RocksKV::open(dir.path(), rocks).ok());
    const Outcome on_rocks = run(rocks.get());
    EXPECT_TRUE(on_rocks == in_memory);
}

// Four MgrNodes holding the state at kHead (radius 256: every region) and a bridge (origin only),
// each with a HeaderBook of its own trusting the bridge's key and polling for headers (take_headers).
// No header is known until publish_head().
struct NodeNetwork {
    static constexpr unsigned kBits = 254;  // 4 regions
    static constexpr std::size_t kWindow = 64;
    static constexpr uint32_t kAccounts = 300;

    dht::KeyPair bridge_key = testing::test_key(99);
    trie::MemoryNodeStore full;  // the state at kHead
    Hash root{};
    std::vector<std::unique_ptr<HeaderBook>> books;  // [0] the bridge's, then the nodes' (outlive the members)
    testing::OverlayNet onet{10ms};
    net::LocalNet& net = onet.net;
    std::unique_ptr<MgrNode> bridge;
    PeerId bridge_peer{0};
    std::vector<std::unique_ptr<MgrNode>> nodes;
    std::vector<PeerId> node_peers;

    NodeNetwork() {
        trie::Trie t{&full};
        for (uint32_t i = 0; i < kAccounts; ++i) {
            const uint8_t seed[4] = {static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8), 0x5a, 0xa5};
            const Hash key = keccak256(ByteView{seed, sizeof seed});
            state::Account a;
            a.nonce = i + 1;
            EXPECT_TRUE(t.put(ByteView{key.data(), key.size()}, state::encode_account(a)));
        }
        root = t.root();
        NodeOptions options;
        options.region_bits = kBits;
        options.epoch_length = 16;
        NodeOptions origin = options;
        origin.origin_only = true;
        bridge = std::make_unique<MgrNode>(bridge_key, onet.next_endpoint(0), origin, new_book().source());
        bridge->take_headers(*books.back());
        bridge_peer = onet.add(*bridge);
        for (uint64_t i = 0; i < 4; ++i) {
            HeaderBook& book = new_book();
            nodes.push_back(std::make_unique<MgrNode>(testing::test_key(5000 + i), onet.next_endpoint(256), options,
                                                      book.source()));
            MgrNode* node = nodes.back().get();
            node->take_headers(book);
            EXPECT_TRUE(node->seed(full, kHead, root, {}));
            node_peers.push_back(onet.add(*node));
            net.post(node_peers.back(), [this, node] { node->bootstrap(bridge->record(), net.now()); });
        }
        for (int round = 0; round < 2; ++round) {
            onet.run_for(1s);
            for (std::size_t i = 0; i < nodes.size(); ++i) {
                MgrNode* node = nodes[i].get();
                net.post(node_peers[i], [this, node] { node->look_up_self(net.now()); });
            }
        }
        onet.run_for(2s);
    }

    HeaderBook& new_book() {
        books.push_back(std::make_unique<HeaderBook>(bridge_key.public_key, kWindow));
        return *books.back();
    }

    // The bridge signs and publishes the head's header (no items: the state is the nodes' seed); the
    // nodes learn it by their polls.
    void publish_head() {
        net.post(bridge_peer, [this, header = encode(sign_header(bridge_key, Header{kHead, root}))] {
            bridge->publish({}, {}, net.now(), header);
        });
    }

    [[nodiscard]] bool nodes_hold_head() const {
        return std::all_of(books.begin() + 1, books.end(), [this](const auto& b) { return b->root(kHead) == root; });
    }
};

// A client as in a process: its chain is its own book (book_chain), empty at the start, filled from
// the network (take_headers). It meets the network through the first node.
struct BookClient {
    HeaderBook book;
    MgrSync sync;
    PeerId peer{0};

    explicit BookClient(NodeNetwork& n)
        : book{n.bridge_key.public_key, NodeNetwork::kWindow},
          sync{testing::test_key(1), n.onet.next_endpoint(0), options(), book_chain(book)} {
        sync.take_headers(book);
        peer = n.onet.add(sync);
        n.net.post(peer, [this, &n] { sync.bootstrap(n.nodes.front()->record(), n.net.now()); });
    }

    static MgrSyncOptions options() {
        MgrSyncOptions o;
        o.region_bits = NodeNetwork::kBits;
        o.epoch_length = 16;
        return o;
    }
};

TEST(MgrSyncOnNodes, WithNoHeaderKnownTheClientWaitsAndFailsNothing) {
    NodeNetwork n;
    BookClient c{n};
    // Past unserved_timeout (3 minutes): no region was ever wanted, so none is unserved.
    n.onet.run_for(4min);
    EXPECT_FALSE(c.book.latest());
    EXPECT_EQ(c.sync.stats().chunk_requests, 0u);
    EXPECT_EQ(c.sync.stats().headers_rejected, 0u);
    EXPECT_FALSE(c.sync.synced());
    EXPECT_TRUE(c.sync.failure().empty()) << c.sync.failure();
}

TEST(MgrSyncOnNodes, AClientWithAnEmptyBookLearnsTheHeadFromTheNodesAndSyncsToItsRoot) {
    NodeNetwork n;
    n.publish_head();
    for (int step = 0; step < 24 && !n.nodes_hold_head(); ++step) n.onet.run_for(5s);
    ASSERT_TRUE(n.nodes_hold_head());
    // The bridge goes away: the client can learn the header from the nodes only.
    n.net.set_online(n.bridge_peer, false);
    BookClient c{n};
    for (int step = 0; step < 60 && !c.sync.synced(); ++step) n.onet.run_for(5s);
    EXPECT_EQ(c.book.root(kHead), n.root);
    EXPECT_GT(c.sync.stats().headers_accepted, 0u);
    EXPECT_EQ(c.sync.stats().headers_rejected, 0u);
    ASSERT_TRUE(c.sync.synced()) << c.sync.failure();
    EXPECT_EQ(c.sync.state_root(), n.root);
    EXPECT_EQ(c.sync.verified_number(), kHead);
    EXPECT_EQ(c.sync.accounts(), NodeNetwork::kAccounts);
    EXPECT_TRUE(c.sync.failure().empty()) << c.sync.failure();
}

}  // namespace
}  // namespace carousel::mgr
