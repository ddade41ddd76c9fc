// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// PrefixSync against ChunkServers serving a generated state (with storage and code), on LocalNet
// (deterministic; 20 ms links, bandwidth limits), with servers that lie, stall, or lose the root.
#include <algorithm>
#include <deque>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/net/local_net.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/prefix/prefix_sync.hpp>
#include <carousel/sim/prefix_scenario.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/store/kv_node_store.hpp>
#include <carousel/store/memory_kv.hpp>
#include <carousel/testing/fault_kv.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::prefix {
namespace {

// A generated state served from memory (sim::ServedChain), with busy contracts and blocks.
state::GeneratorConfig chain_config(uint64_t seed, uint64_t accounts) {
    state::GeneratorConfig cfg;
    cfg.seed = seed;
    cfg.accounts = accounts;
    cfg.max_contract_slots = 2000;
    cfg.accounts_per_block = 40;
    cfg.slots_per_block = 60;
    return cfg;
}
struct Chain : sim::ServedChain {
    Chain(uint64_t seed, uint64_t accounts, int blocks) : sim::ServedChain{chain_config(seed, accounts), blocks} {
        EXPECT_TRUE(ok);
    }
};

// The synced stores hold the whole state: every account, slot and code of the served root.
void expect_complete_copy(const Chain&, const Hash& root, trie::MemoryNodeStore& nodes, state::MemoryCodeStore& code) {
    const sim::StateCheck check = sim::check_state(nodes, code, root);
    EXPECT_TRUE(check.complete) << "a node, a storage trie or a code blob is missing";
    EXPECT_GT(check.accounts, 0U);
}

struct SyncSetup {
    Chain chain;
    std::vector<std::unique_ptr<ChunkServer>> servers;
    trie::MemoryNodeStore client_nodes;
    trie::NodeStore* client_store{nullptr};  // the store clients started from now on use, if not client_nodes
    state::MemoryCodeStore client_code;
    std::unique_ptr<PrefixSync> sync;
    std::vector<std::unique_ptr<PrefixSync>> retired;  // LocalNet keeps every endpoint it was given
    net::LocalNet network;
    net::PeerId client_id{0};
    std::vector<net::PeerId> server_ids;
    PrefixSyncOptions options;

    SyncSetup(uint64_t seed, uint64_t accounts, int servers_count, PrefixSyncOptions o = {}, int blocks = 0,
              ServerOptions server_options = {})
        : chain{seed, accounts, blocks}, options{o} {
        const Hash head = chain.roots.back();
        for (int i = 0; i < servers_count; ++i) {
            servers.push_back(std::make_unique<ChunkServer>(
                chain.nodes, &chain.code, [head] { return head; }, server_options));
            server_ids.push_back(network.add(*servers.back(), {25'000'000, 0}));
        }
        start_client(head);
    }
    bool trusted(const Hash& r) const {
        return std::find(chain.roots.begin(), chain.roots.end(), r) != chain.roots.end();
    }
    // A client (a new one each call, as after a restart) on the client stores, syncing `root`.
    void start_client(const Hash& root) {
        if (client_id != 0) {
            network.set_online(client_id, false);
            retired.push_back(std::move(sync));
        }
        sync = std::make_unique<PrefixSync>(client_store != nullptr ? *client_store : client_nodes, client_code, root,
                                            options, [this](const Hash& r) { return trusted(r); });
        client_id = network.add(*sync, {0, 100'000'000});
    }
    void connect_all() {
        for (net::PeerId id : server_ids) network.connect(client_id, id, {std::chrono::milliseconds{20}});
    }
    bool run(const std::function<bool()>& until) {
        return network.run_until(until, network.now() + std::chrono::minutes{30});
    }
    bool run_to_done() {
        return run([this] { return sync->done(); });
    }
    // The client starts at the genesis root, which the servers' store still holds; once it has
    // `fraction` of the account trie, the servers stop serving it (0x0 naming the head), as when a
    // root falls out of their window. Returns the progress at that point.
    SyncProgress lose_genesis_at(double fraction) {
        const Hash genesis = chain.roots.front();
        const Hash head = chain.roots.back();
        start_client(genesis);
        connect_all();
        run([&] { return sync->progress().account_fraction > fraction; });
        EXPECT_FALSE(sync->done());
        network.set_frame_hook([this, genesis, head](net::PeerId, net::PeerId, Bytes& frame) {
            auto data = proto::decode_chunk_data(frame);
            if (!data || sync->root() != genesis) return;
            for (auto& e : data->entries) {
                e = proto::ChunkEntry{};
                e.error = proto::ChunkError::kUnknownRoot;
                e.error_data = Bytes{view(head)};
            }
            frame = proto::encode(*data);
        });
        return sync->progress();
    }
    // The PeerId the client knows server i (0-based) by.
    net::PeerId server(int i) const { return server_ids[static_cast<std::size_t>(i)]; }
};

TEST(PrefixSync, FullSyncFromOneServer) {
    SyncSetup s{1, 3000, 1};
    s.connect_all();
    s.run_to_done();
    ASSERT_TRUE(s.sync->done());
    const auto p = s.sync->progress();
    EXPECT_DOUBLE_EQ(p.account_fraction, 1.0);
    EXPECT_EQ(p.accounts, s.chain.generator->stats().accounts);
    // Every slot counts, also those in subtrees two storage tries share (fetched once).
    EXPECT_EQ(p.slots, s.chain.generator->stats().slots);
    EXPECT_EQ(p.storage_tries, p.storage_tries_done);
    EXPECT_EQ(p.code_wanted, p.code_done);
    expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
}

TEST(PrefixSync, FullSyncFromEightServersWithSmallChunks) {
    PrefixSyncOptions o;
    o.max_response_bytes = 4096;
    SyncSetup s{2, 3000, 8, o};
    s.connect_all();
    s.run_to_done();
    ASSERT_TRUE(s.sync->done());
    std::size_t busy = 0;
    for (const auto& [peer, st] : s.sync->peers()) busy += st.requests > 0 ? 1 : 0;
    EXPECT_EQ(busy, 8U);
    expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
}

// Streaming: a cut sub-trie keeps coming without a request per chunk. Same state, same small
// maxSize, with and without kFlagStream: the same state, fewer requests, sooner.
TEST(PrefixSync, StreamedAnswersSyncWithFewerRequests) {
    PrefixSyncOptions o;
    o.max_response_bytes = 4096;
    SyncSetup plain{3, 3000, 2, o};
    plain.connect_all();
    ASSERT_TRUE(plain.run_to_done());
    o.stream = true;
    SyncSetup streamed{3, 3000, 2, o};
    streamed.connect_all();
    ASSERT_TRUE(streamed.run_to_done());
    expect_complete_copy(streamed.chain, streamed.chain.roots.back(), streamed.client_nodes, streamed.client_code);
    const auto p = streamed.sync->progress();
    EXPECT_EQ(p.accounts, plain.sync->progress().accounts);
    EXPECT_EQ(p.slots, plain.sync->progress().slots);
    // Every small storage trie and every top still takes a request of its own; the cut sub-tries
    // take one each instead of one per chunk, and the sync takes less (simulated) time.
    EXPECT_LT(p.requests * 4, plain.sync->progress().requests * 3)
        << "streamed " << p.requests << " requests, plain " << plain.sync->progress().requests;
    EXPECT_LT(streamed.network.now(), plain.network.now())
        << "streamed " << streamed.network.now().count() << " us, plain " << plain.network.now().count() << " us";
    for (const auto& [peer, st] : streamed.sync->peers()) {
        EXPECT_EQ(st.rejected_chunks, 0U);
        EXPECT_EQ(st.timeouts, 0U);
        EXPECT_FALSE(st.dropped);
    }
}

// A server whose stream budget runs out ends each unfinished entry with 0x2 at its stop path; the
// client asks those ranges again (no offence, no pause) and completes.
TEST(PrefixSync, StreamsCutByTheServersBudgetAreAskedAgain) {
    PrefixSyncOptions o;
    o.max_response_bytes = 4096;
    o.stream = true;
    ServerOptions tight;
    tight.max_stream_bytes = 8192;  // two or three continuation frames
    SyncSetup s{3, 3000, 2, o, 0, tight};
    s.connect_all();
    ASSERT_TRUE(s.run_to_done());
    expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
    EXPECT_EQ(s.sync->progress().slots, s.chain.generator->stats().slots);
    EXPECT_GT(s.servers[0]->stats().back_off + s.servers[1]->stats().back_off, 0U);
    for (const auto& [peer, st] : s.sync->peers()) {
        EXPECT_EQ(st.rejected_chunks, 0U);
        EXPECT_EQ(st.timeouts, 0U);
        EXPECT_GE(s.sync->standing(peer), 0);
    }
}

// What one streamed request makes a server queue is bounded by its stream budget: a request for a
// whole trie in 4 KB chunks gets the budget's worth of continuations, then 0x2 at the stop path.
TEST(ChunkServerStream, OneRequestQueuesAtMostItsBudget) {
    Chain chain{3, 3000, 0};
    const Hash root = chain.roots.back();
    proto::GetChunks g;
    g.request_id = 9;
    g.root = root;
    g.prefixes = {Nibbles{0}, Nibbles{15}};
    g.is_range = true;
    g.max_size = 4096;
    g.flags = proto::kFlagStream | proto::kFlagSkipStem;
    const auto stream = [&](std::size_t budget) {
        ServerOptions o;
        o.max_stream_bytes = budget;
        ChunkServer server{chain.nodes, &chain.code, [root] { return root; }, o};
        server.on_frame(1, proto::encode(g), proto::Time{0});
        return server.take_outbox();
    };
    const auto whole = stream(std::size_t{1} << 30);
    const auto cut = stream(64 * 1024);
    std::size_t whole_bytes = 0;
    for (const auto& f : whole) whole_bytes += f.frame.size();
    std::size_t cut_bytes = 0;
    for (std::size_t i = 1; i < cut.size(); ++i) cut_bytes += cut[i].frame.size();
    ASSERT_GT(whole_bytes, 256U * 1024);
    auto last = proto::decode_chunk_data(whole.back().frame);
    ASSERT_TRUE(last);
    EXPECT_FALSE(last->entries.at(0).stop_path) << "an unbounded stream runs to the end of the range";
    EXPECT_LE(cut_bytes, 64 * 1024 + 2 * 4096 + 256);
    last = proto::decode_chunk_data(cut.back().frame);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->request_id, 9U);
    EXPECT_EQ(last->entries.at(0).error, proto::ChunkError::kBackOff);
}

// A streaming server that lies in a continuation: the bad frame is refused, the rest of that
// stream is followed without being taken, and the range is fetched again; the root is right.
TEST(PrefixSync, ABadStreamedContinuationIsRefusedAndRefetched) {
    PrefixSyncOptions o;
    o.max_response_bytes = 4096;
    o.stream = true;
    SyncSetup s{3, 3000, 2, o};
    int tampered = 0;
    s.network.set_frame_hook([&](net::PeerId from, net::PeerId, Bytes& frame) {
        if (from != s.server(0) || tampered >= 20) return;
        auto data = proto::decode_chunk_data(frame);
        // A continuation frame: one entry that starts past a stem (a range's stop path).
        if (!data || data->entries.size() != 1 || data->entries[0].error || data->entries[0].nodes.size() < 2 ||
            data->entries[0].prefix.size() < 3) {
            return;
        }
        data->entries[0].nodes[1].back() ^= 1;
        frame = proto::encode(*data);
        ++tampered;
    });
    s.connect_all();
    ASSERT_TRUE(s.run_to_done());
    EXPECT_GT(tampered, 0);
    expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
    EXPECT_GT(s.sync->peers().at(s.server(0)).rejected_chunks, 0U);
    EXPECT_EQ(s.sync->peers().at(s.server(1)).rejected_chunks, 0U);
}

TEST(PrefixSync, LyingServersAreDetectedAndDropped) {
    PrefixSyncOptions o;
    o.max_response_bytes = 8192;
    SyncSetup s{3, 2000, 4, o};
    // Server 1 flips a byte in every node it sends; server 2 truncates chunks to their first node
    // and claims they are complete; server 3 answers nothing.
    s.network.set_frame_hook([](net::PeerId from, net::PeerId, Bytes& frame) {
        if (from == 3) {
            frame.clear();
            return;
        }
        if (from != 1 && from != 2) return;
        auto data = proto::decode_chunk_data(frame);
        if (!data) return;
        for (auto& e : data->entries) {
            if (from == 1) {
                for (auto& n : e.nodes) n[n.size() - 1] ^= 0x01;
            } else if (e.nodes.size() > 1) {
                e.nodes.resize(1);
                e.stop_path.reset();
            }
        }
        frame = proto::encode(*data);
    });
    s.connect_all();
    s.run_to_done();
    ASSERT_TRUE(s.sync->done());
    const auto& peers = s.sync->peers();
    EXPECT_GT(peers.at(1).rejected_chunks, 0U);
    EXPECT_TRUE(peers.at(1).dropped);
    EXPECT_GT(peers.at(3).hedged, 0U);  // its requests went to others past its deadline
    EXPECT_EQ(peers.at(3).answers, 0U);
    EXPECT_EQ(peers.at(4).rejected_chunks, 0U);
    expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
}

// A peer that takes requests and never answers, beside an honest one: its requests are hedged to
// the honest peer once they pass the measured round trip (it has none: the median of the others'),
// its window halves at once, and the sync takes about as long as from the honest peer alone. Before
// hedging each of its requests waited out the 10 s timeout.
TEST(PrefixSync, AStallingPeerIsHedgedAround) {
    PrefixSyncOptions o;
    o.max_response_bytes = 8 * 1024;
    auto sync_time = [&](bool with_stalling_peer) {
        SyncSetup s{21, 10000, with_stalling_peer ? 2 : 1, o};
        if (with_stalling_peer) {
            const net::PeerId stalling = s.server_ids[0];
            s.network.set_frame_hook([stalling](net::PeerId from, net::PeerId, Bytes& frame) {
                if (from == stalling) frame.clear();
            });
        }
        const proto::Time start = s.network.now();
        s.connect_all();
        EXPECT_TRUE(s.run_to_done());
        expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
        if (with_stalling_peer) {
            const PeerStats& st = s.sync->peers().at(s.server_ids[0]);
            EXPECT_GT(st.hedged, 0U);
            EXPECT_EQ(st.answers, 0U);
            EXPECT_EQ(s.sync->peers().at(s.server_ids[1]).late, 0U);
        }
        return std::chrono::duration<double>(s.network.now() - start).count();
    };
    const double alone = sync_time(false);
    const double stalled = sync_time(true);
    EXPECT_LT(stalled, 1.3 * alone) << "alone " << alone << " s";
}

TEST(PrefixSync, MovesToANewerRootAndHealsOnlyWhatChanged) {
    PrefixSyncOptions o;
    o.max_response_bytes = 16 * 1024;
    SyncSetup s{4, 3000, 2, o, /*blocks=*/5};
    const Hash head = s.chain.roots.back();
    const auto p0 = s.lose_genesis_at(0.5);
    s.run_to_done();
    ASSERT_TRUE(s.sync->done());
    EXPECT_EQ(s.sync->root(), head);
    EXPECT_EQ(s.sync->progress().root_moves, 1U);
    expect_complete_copy(s.chain, head, s.client_nodes, s.client_code);
    // Healing fetches only what it lacks: the whole run (old root, then the head) costs little more
    // than one sync of the head alone; what it fetched twice is what changed in 5 blocks plus the
    // old nodes on the changed paths.
    SyncSetup fresh{4, 3000, 2, o, 5};
    fresh.connect_all();
    fresh.run_to_done();
    const auto payload = [](const SyncProgress& p) {
        return p.bytes_account_nodes + p.bytes_storage_nodes + p.bytes_code;
    };
    const uint64_t ours = payload(s.sync->progress());
    const uint64_t once = payload(fresh.sync->progress());
    EXPECT_LT(ours, once * 115 / 100) << "fetched " << ours << " (" << payload(p0) << " before the move), one sync "
                                      << once;
}

// The servers stop serving the root a leaf-mode sync started at, halfway through its account trie.
// The leaves verified so far stay (as the nodes they build); the new root's account trie is healed
// around them as whole sub-tries; the storage tries go on in leaf mode.
TEST(PrefixSyncLeaves, MovesToANewerRootKeepingTheVerifiedLeaves) {
    PrefixSyncOptions o;
    o.leaf_mode = true;
    o.max_response_bytes = 16 * 1024;
    SyncSetup s{4, 3000, 2, o, /*blocks=*/5};
    const Hash head = s.chain.roots.back();
    const auto before = s.lose_genesis_at(0.5);
    ASSERT_TRUE(s.run_to_done());
    const auto p = s.sync->progress();
    EXPECT_EQ(s.sync->root(), head);
    EXPECT_EQ(p.root_moves, 1U);
    EXPECT_EQ(p.accounts, s.chain.generator->stats().accounts);
    expect_complete_copy(s.chain, head, s.client_nodes, s.client_code);
    // The verified leaves were used: the account trie cost less than fetching the head's whole
    // account trie as sub-tries after the move would have.
    PrefixSyncOptions full = o;
    full.leaf_mode = false;
    SyncSetup f{4, 3000, 2, full, 5};
    f.connect_all();
    ASSERT_TRUE(f.run_to_done());
    const uint64_t after_move = p.bytes_account_nodes - before.bytes_account_nodes;
    EXPECT_LT(after_move, f.sync->progress().bytes_account_nodes * 7 / 10)
        << "account trie before the move " << before.bytes_account_nodes << ", after " << after_move
        << ", a whole full-mode account trie " << f.sync->progress().bytes_account_nodes;
}

TEST(PrefixSync, RestartSkipsWhatWasFinished) {
    PrefixSyncOptions o;
    o.max_response_bytes = 8192;
    SyncSetup s{5, 3000, 2, o};
    s.connect_all();
    s.run([&] { return s.sync->progress().account_fraction > 0.6; });
    ASSERT_FALSE(s.sync->done());
    const uint64_t first_bytes = s.sync->progress().bytes_received;
    // A new client on the same stores (the process was killed; the store is what survived).
    s.start_client(s.chain.roots.back());
    s.connect_all();
    ASSERT_TRUE(s.run_to_done());
    PrefixSync* again = s.sync.get();
    // What the first run finished is not fetched again: the restart costs well under a full sync.
    SyncSetup fresh{5, 3000, 2, o};
    fresh.connect_all();
    fresh.run_to_done();
    const uint64_t full = fresh.sync->progress().bytes_received;
    EXPECT_LT(again->progress().bytes_received, full * 6 / 10) << "first run " << first_bytes << ", full " << full;
    expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
}

TEST(PrefixSyncLeaves, LeafModeSyncsTheWholeState) {
    PrefixSyncOptions o;
    o.leaf_mode = true;
    o.max_response_bytes = 16 * 1024;
    SyncSetup s{6, 3000, 4, o};
    s.connect_all();
    s.run_to_done();
    ASSERT_TRUE(s.sync->done());
    const auto p = s.sync->progress();
    EXPECT_EQ(p.accounts, s.chain.generator->stats().accounts);
    EXPECT_EQ(p.slots, s.chain.generator->stats().slots);
    EXPECT_EQ(p.storage_tries, p.storage_tries_done);
    expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
    // Every stored node was built from verified leaves (and counted for the verify floor); a subtree
    // two storage tries share is built by each.
    EXPECT_GE(p.nodes_built, s.client_nodes.size());
    EXPECT_GT(p.node_bytes_built, 32 * p.nodes_built);
    // Leaf mode sends leaves and two edge proofs per range: fewer bytes than whole sub-tries.
    PrefixSyncOptions full = o;
    full.leaf_mode = false;
    SyncSetup f{6, 3000, 4, full};
    f.connect_all();
    f.run_to_done();
    EXPECT_LT(p.bytes_received, f.sync->progress().bytes_received);
    EXPECT_EQ(f.sync->progress().nodes_built, 0U);  // full mode receives its nodes
}

// A KV that counts the leaves written to it (a leaf-mode spill) and the most it held at once.
class CountingKV final : public store::KV {
  public:
    store::Status get(store::Column c, ByteView key, Bytes& value) const noexcept override {
        return inner_.get(c, key, value);
    }
    store::Status write(const store::WriteBatch& batch, store::WriteOptions o) noexcept override {
        struct Count final : store::WriteBatch::Handler {
            int64_t puts{0};
            void put(store::Column c, ByteView, ByteView) override { puts += c == store::Column::kStorageLeaves; }
            void del(store::Column, ByteView) override {}
            void del_range(store::Column, ByteView, ByteView) override {}
        } count;
        batch.iterate(count);
        leaf_puts += static_cast<uint64_t>(count.puts);
        return inner_.write(batch, o);
    }
    std::unique_ptr<store::Iterator> new_iterator(store::Column c, store::KeyRange r) const noexcept override {
        return inner_.new_iterator(c, std::move(r));
    }
    uint64_t leaf_puts{0};

  private:
    store::MemoryKV inner_;
};

// Leaf mode in 16 KB answers, spilling to `spill` past 32 KB of a trie's leaves: the account trie
// (3000 leaves) and the big storage tries of a 3000-account state spill.
PrefixSyncOptions spilling_leaf_mode(store::KV& spill) {
    PrefixSyncOptions o;
    o.leaf_mode = true;
    o.max_response_bytes = 16 * 1024;
    o.leaf_spill = &spill;
    o.leaf_spill_bytes = 32 * 1024;
    return o;
}

TEST(PrefixSyncLeaves, LeavesWaitOnDiskPastTheSpillThreshold) {
    CountingKV spill;
    const PrefixSyncOptions o = spilling_leaf_mode(spill);
    SyncSetup s{6, 3000, 4, o};
    s.connect_all();
    s.run_to_done();
    ASSERT_TRUE(s.sync->done());
    const auto p = s.sync->progress();
    EXPECT_EQ(p.accounts, s.chain.generator->stats().accounts);
    EXPECT_GT(spill.leaf_puts, 3000U) << "the account trie's leaves went through the KV";
    expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
    // Every spilled leaf, and every progress record, is deleted once its trie is built.
    for (const auto column : {store::Column::kStorageLeaves, store::Column::kMeta}) {
        auto it = spill.new_iterator(column, store::KeyRange::all());
        it->seek_to_first();
        EXPECT_FALSE(it->valid());
    }
}

// A leaf-mode sync stopped halfway (as by kill -9: a new client on what the stores and the spill
// kept) resumes: the spilled leaves and their progress records are taken back, their accounts'
// storage and code are named again, and only the rest of the key space is fetched.
TEST(PrefixSyncLeaves, RestartResumesFromTheSpilledLeaves) {
    store::MemoryKV spill;
    const PrefixSyncOptions o = spilling_leaf_mode(spill);
    SyncSetup s{5, 3000, 2, o};
    s.connect_all();
    s.run([&] { return s.sync->progress().account_fraction > 0.6; });
    ASSERT_FALSE(s.sync->done());
    s.start_client(s.chain.roots.back());
    s.connect_all();
    ASSERT_TRUE(s.run_to_done());
    const auto p = s.sync->progress();
    EXPECT_EQ(p.accounts, s.chain.generator->stats().accounts) << "resumed leaves count as well";
    // (Slots count the storage tries synced in this run: those the first run completed are held.)
    expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
    SyncSetup fresh{5, 3000, 2, o};
    fresh.connect_all();
    ASSERT_TRUE(fresh.run_to_done());
    EXPECT_LT(p.bytes_received, fresh.sync->progress().bytes_received * 6 / 10)
        << "resumed " << p.bytes_received << ", whole " << fresh.sync->progress().bytes_received;
}

// A store that holds puts back until flush(), as KvNodeStore does; `durable` is what a kill leaves.
class HeldBackNodes final : public trie::NodeStore {
  public:
    explicit HeldBackNodes(trie::NodeStore& durable) : durable_{durable} {}
    std::optional<Bytes> get_node(const Hash& hash) const override {
        if (auto it = held_.find(hash); it != held_.end()) return it->second;
        return durable_.get_node(hash);
    }
    void put_node(const Hash& hash, ByteView rlp) override { held_.insert_or_assign(hash, Bytes{rlp}); }
    void flush() override {
        for (const auto& [hash, rlp] : held_) durable_.put_node(hash, rlp);
        held_.clear();
    }

  private:
    trie::NodeStore& durable_;
    std::map<Hash, Bytes> held_;
};

// A spilled trie's leaves are deleted only once the store has made the trie built from them durable:
// killed right after, the client finds the trie (and fetches none of it again).
TEST(PrefixSyncLeaves, SpilledLeavesGoOnlyOnceTheirTrieIsDurable) {
    store::MemoryKV spill;
    const PrefixSyncOptions o = spilling_leaf_mode(spill);
    SyncSetup s{6, 3000, 4, o};
    HeldBackNodes held{s.client_nodes};
    s.client_store = &held;
    s.start_client(s.chain.roots.back());
    s.connect_all();
    ASSERT_TRUE(s.run_to_done());
    // No flush by the test: s.client_nodes is what a kill now would leave.
    auto it = spill.new_iterator(store::Column::kStorageLeaves, store::KeyRange::all());
    it->seek_to_first();
    EXPECT_FALSE(it->valid()) << "the spilled leaves are gone";
    EXPECT_TRUE(s.client_nodes.get_node(s.chain.roots.back())) << "so the account trie must be durable";
}

// A spill KV that fails (a full or failing disk), on a write of spilled leaves or on the first read
// (the probe for a killed run's progress): the sync names the injected error, does not finish, and
// the store never holds the account trie's root (no trie is built from leaves that did not all reach
// the spill or come back from it). A client started again on the same spill, the fault gone,
// completes the sync from what the spill kept: nothing half-written there misleads it.
TEST(PrefixSyncLeaves, AFailingSpillStopsTheSyncWithTheError) {
    for (const auto& [op, n] :
         {std::pair{testing::FaultKV::Op::kWrite, 5}, std::pair{testing::FaultKV::Op::kRead, 1}}) {
        SCOPED_TRACE(op == testing::FaultKV::Op::kWrite ? "write" : "read");
        store::MemoryKV memory;
        testing::FaultKV spill{memory};
        spill.fail_nth(op, static_cast<uint64_t>(n));
        SyncSetup s{6, 3000, 4, spilling_leaf_mode(spill)};
        s.connect_all();
        ASSERT_TRUE(s.run([&] { return s.sync->done() || !s.sync->spill_status().ok(); }));
        const store::Status error = s.sync->spill_status();
        EXPECT_TRUE(error.is_io_error()) << error.to_string();
        EXPECT_NE(error.message().find("injected fault"), std::string::npos) << error.to_string();
        // A simulated minute on (the whole sync takes seconds): the sync stays stuck, nothing is built.
        s.network.run_until([] { return false; }, s.network.now() + std::chrono::minutes{1});
        EXPECT_FALSE(s.sync->done());
        EXPECT_FALSE(s.client_nodes.get_node(s.chain.roots.back())) << "a trie built from a failed spill";
        s.start_client(s.chain.roots.back());
        s.connect_all();
        ASSERT_TRUE(s.run_to_done());
        EXPECT_TRUE(s.sync->spill_status().ok());
        expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
    }
}

// A client store whose reads fail (a dying disk under KvNodeStore): a client started again over a
// finished sync's database does not take its nodes for absent and go on quietly; store_status()
// names the failure, for the driver to stop on.
TEST(PrefixSync, AFailingStoreReadIsReported) {
    store::MemoryKV memory;
    testing::FaultKV kv{memory};
    store::KvNodeStore nodes{kv};
    SyncSetup s{7, 2000, 2};
    s.client_store = &nodes;
    s.start_client(s.chain.roots.back());
    s.connect_all();
    ASSERT_TRUE(s.run_to_done());
    EXPECT_TRUE(s.sync->store_status().ok());
    nodes.flush();
    kv.fail_all(true);
    s.start_client(s.chain.roots.back());
    s.connect_all();
    ASSERT_TRUE(s.run([&] { return !s.sync->store_status().ok(); }));
    const store::Status error = s.sync->store_status();
    EXPECT_TRUE(error.is_io_error()) << error.to_string();
    EXPECT_NE(error.message().find("injected fault"), std::string::npos) << error.to_string();
    EXPECT_TRUE(s.sync->spill_status().ok()) << "the spill is not the store";
}

TEST(PrefixSyncLeaves, WrongLeavesAreRejected) {
    PrefixSyncOptions o;
    o.leaf_mode = true;
    o.max_response_bytes = 8 * 1024;
    SyncSetup s{7, 2000, 3, o};
    // Server 1 changes a value, server 2 drops the middle leaf of every range.
    s.network.set_frame_hook([](net::PeerId from, net::PeerId, Bytes& frame) {
        if (from != 1 && from != 2) return;
        auto data = proto::decode_chunk_data(frame);
        if (!data) return;
        for (auto& e : data->entries) {
            if (e.keys.size() < 3) continue;
            if (from == 1) {
                e.values[1].back() ^= 0x01;
            } else {
                e.keys.erase(e.keys.begin() + 1);
                e.values.erase(e.values.begin() + 1);
            }
        }
        frame = proto::encode(*data);
    });
    s.connect_all();
    s.run_to_done();
    ASSERT_TRUE(s.sync->done());
    EXPECT_GT(s.sync->peers().at(1).rejected_chunks, 0U);
    EXPECT_GT(s.sync->peers().at(2).rejected_chunks, 0U);
    EXPECT_EQ(s.sync->peers().at(3).rejected_chunks, 0U);
    expect_complete_copy(s.chain, s.chain.roots.back(), s.client_nodes, s.client_code);
}

// Account keys of the chain's head state: `contracts` with storage, `eoas` without code or storage.
std::vector<std::pair<Hash, Bytes>> pick_accounts(Chain& chain, std::size_t contracts, std::size_t eoas) {
    std::vector<std::pair<Hash, Bytes>> out;
    trie::Trie t{&chain.nodes, chain.roots.back()};
    std::size_t c = 0, e = 0, seen = 0;
    EXPECT_TRUE(t.for_each([&](ByteView key, ByteView value) {
        if (++seen % 97 != 0) return;  // spread over the key space
        ByteView in = value;
        auto a = state::decode_account(in);
        if (!a) return;
        if (a->storage_root != trie::kEmptyRoot && c < contracts) {
            ++c;
            out.emplace_back(to_hash(key), Bytes{value});
        } else if (a->storage_root == trie::kEmptyRoot && a->code_hash == state::kEmptyCodeHash && e < eoas) {
            ++e;
            out.emplace_back(to_hash(key), Bytes{value});
        }
    }));
    EXPECT_EQ(c, contracts);
    EXPECT_EQ(e, eoas);
    return out;
}

TEST(PrefixSyncLight, SyncsOnlyTheChunksOfTheWantedAccounts) {
    PrefixSyncOptions o;
    o.max_response_bytes = 16 * 1024;
    SyncSetup s{8, 3000, 2, o};
    const auto picked = pick_accounts(s.chain, 3, 2);
    const Hash nobody = keccak256(ByteView{reinterpret_cast<const uint8_t*>("nobody"), 6});
    s.options.light_accounts = {nobody};
    for (const auto& [k, v] : picked) s.options.light_accounts.push_back(k);
    s.start_client(s.chain.roots.back());
    ASSERT_TRUE(s.sync->light());
    EXPECT_FALSE(s.sync->light_result()) << "not before the sync is done";
    s.connect_all();
    ASSERT_TRUE(s.run_to_done());
    auto result = s.sync->light_result();
    ASSERT_TRUE(result);
    ASSERT_EQ(result->size(), 6U);
    std::size_t found = 0;
    for (const LightAccount& a : *result) {
        if (a.key == nobody) {
            EXPECT_FALSE(a.value) << "an account not in the state is proven absent";
            continue;
        }
        auto it = std::find_if(picked.begin(), picked.end(), [&](const auto& p) { return p.first == a.key; });
        ASSERT_NE(it, picked.end());
        ASSERT_TRUE(a.value);
        EXPECT_EQ(*a.value, it->second);
        ++found;
        // The wanted contracts' storage tries and code are complete in the store.
        ByteView in = *a.value;
        auto acc = state::decode_account(in);
        ASSERT_TRUE(acc);
        if (acc->storage_root != trie::kEmptyRoot) {
            trie::Trie storage{&s.client_nodes, acc->storage_root};
            EXPECT_TRUE(storage.for_each([](ByteView, ByteView) {})) << "storage trie incomplete";
        }
        if (acc->code_hash != state::kEmptyCodeHash) {
            EXPECT_TRUE(s.client_code.get_code(acc->code_hash));
        }
    }
    EXPECT_EQ(found, 5U);
    // The account trie is not complete, so its root is not in the store (the store only ever holds
    // complete subtrees), and a light sync costs a small part of a full one.
    EXPECT_FALSE(s.client_nodes.get_node(s.chain.roots.back()));
    const auto p = s.sync->progress();
    EXPECT_EQ(p.light_wanted, 6U);
    EXPECT_LT(p.accounts, 3000U / 4);
    SyncSetup full{8, 3000, 2, o};
    full.connect_all();
    ASSERT_TRUE(full.run_to_done());
    EXPECT_LT(p.bytes_received, full.sync->progress().bytes_received / 4)
        << "light " << p.bytes_received << ", full " << full.sync->progress().bytes_received;
}

TEST(PrefixSyncLight, WrongNodesOnTheWantedPathsAreRejected) {
    PrefixSyncOptions o;
    o.max_response_bytes = 16 * 1024;
    SyncSetup s{9, 2000, 2, o};
    const auto picked = pick_accounts(s.chain, 2, 2);
    for (const auto& [k, v] : picked) s.options.light_accounts.push_back(k);
    s.start_client(s.chain.roots.back());
    // Server 1 flips a byte in every node it sends.
    s.network.set_frame_hook([](net::PeerId from, net::PeerId, Bytes& frame) {
        if (from != 1) return;
        auto data = proto::decode_chunk_data(frame);
        if (!data) return;
        for (auto& e : data->entries) {
            for (auto& n : e.nodes) n[n.size() - 1] ^= 0x01;
        }
        frame = proto::encode(*data);
    });
    s.connect_all();
    ASSERT_TRUE(s.run_to_done());
    EXPECT_GT(s.sync->peers().at(1).rejected_chunks, 0U);
    auto result = s.sync->light_result();
    ASSERT_TRUE(result);
    for (const LightAccount& a : *result) {
        auto it = std::find_if(picked.begin(), picked.end(), [&](const auto& p) { return p.first == a.key; });
        ASSERT_NE(it, picked.end());
        ASSERT_TRUE(a.value);
        EXPECT_EQ(*a.value, it->second);
    }
}

TEST(PrefixSyncPartial, ASyncingClientServesWhatItHolds) {
    PrefixSyncOptions o;
    o.max_response_bytes = 16 * 1024;
    SyncSetup s{10, 3000, 1, o};
    const Hash head = s.chain.roots.back();
    // Client A syncs from the one real server until about half of the account trie is in.
    s.connect_all();
    s.run([&] { return s.sync->progress().account_fraction > 0.5; });
    ASSERT_FALSE(s.sync->done());
    // A serves what it verified so far (its store and the nodes waiting in its memory) ...
    ChunkServer partial{s.sync->verified_nodes(), &s.client_code, [&] { return s.sync->root(); }};
    const net::PeerId partial_id = s.network.add(partial, {25'000'000, 0});
    // ... to client B, which first has only A to sync from.
    trie::MemoryNodeStore b_nodes;
    state::MemoryCodeStore b_code;
    PrefixSync b{b_nodes, b_code, head, o};
    const net::PeerId b_id = s.network.add(b, {0, 100'000'000});
    s.network.connect(b_id, partial_id, {std::chrono::milliseconds{20}});
    s.run([&] { return b.progress().account_fraction > 0.3 || s.network.now() > std::chrono::seconds{60}; });
    const auto from_a = b.peers().at(partial_id);
    EXPECT_GT(from_a.bytes_received, 0U);
    EXPECT_EQ(from_a.rejected_chunks, 0U) << "a partial server sends only verified nodes";
    EXPECT_GT(b.progress().accounts, 0U);
    EXPECT_GT(partial.stats().nodes_sent, 0U);
    // Then B also gets the real server and both finish.
    s.network.connect(b_id, s.server(0), {std::chrono::milliseconds{20}});
    ASSERT_TRUE(s.run([&] { return b.done() && s.sync->done(); }));
    EXPECT_FALSE(b.peers().at(partial_id).dropped);
    EXPECT_EQ(b.peers().at(partial_id).rejected_chunks, 0U);
    expect_complete_copy(s.chain, head, b_nodes, b_code);
    expect_complete_copy(s.chain, head, s.client_nodes, s.client_code);
}

}  // namespace
}  // namespace carousel::prefix
