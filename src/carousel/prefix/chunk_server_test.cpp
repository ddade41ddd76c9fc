// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// ChunkServer answers verified by TrieSync and the range-proof verifiers, without a network.
#include <map>
#include <random>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/state/account.hpp>
#include <carousel/store/memory_kv.hpp>
#include <carousel/store/path_layout.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/proof.hpp>
#include <carousel/trie/trie.hpp>
#include <carousel/trie/trie_sync.hpp>

namespace carousel::prefix {
namespace {

Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
    Bytes b(n, 0);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return b;
}

struct ServedTrie {
    trie::MemoryNodeStore nodes;
    std::map<Bytes, Bytes> leaves;
    Hash root{};

    ServedTrie(uint64_t seed, std::size_t n) {
        std::mt19937_64 rng{seed};
        trie::Trie t{&nodes};
        for (std::size_t i = 0; i < n; ++i) {
            Bytes k = random_bytes(rng, 32), v = random_bytes(rng, 1 + rng() % 80);
            EXPECT_TRUE(t.put(k, v));
            leaves[k] = v;
        }
        root = t.root();
    }
};

proto::GetChunks request(const Hash& root, std::vector<Nibbles> prefixes, std::size_t max_size, uint64_t flags,
                         bool is_range = false) {
    proto::GetChunks r;
    r.request_id = 1;
    r.root = root;
    r.prefixes = std::move(prefixes);
    r.is_range = is_range;
    r.max_size = max_size;
    r.flags = flags;
    return r;
}

// A frontier-driven full-mode client: asks for frontier positions (skip stem), and continues cut
// entries with the range [stopPath, prefix]. Returns the number of requests.
std::size_t sync_full(ChunkServer& server, trie::TrieSync& sync, const Hash& root, std::size_t max_size) {
    std::size_t requests = 0;
    // The `0x0` request first: the top of the trie.
    auto top = server.serve(request(root, {Nibbles{}}, max_size, 0));
    ++requests;
    EXPECT_TRUE(sync.accept(top.entries.at(0).nodes));
    while (!sync.complete() && requests < 100000) {
        std::vector<Nibbles> prefixes;
        for (const auto& [pos, hash] : sync.frontier()) {
            prefixes.push_back(pos);
            if (prefixes.size() == 16) break;
        }
        auto data = server.serve(request(root, prefixes, max_size, proto::kFlagSkipStem));
        ++requests;
        for (std::size_t i = 0; i < data.entries.size(); ++i) {
            auto& e = data.entries[i];
            EXPECT_FALSE(e.error);
            auto r = sync.accept(e.nodes);
            EXPECT_TRUE(r) << to_string(r.error());
            while (e.stop_path) {  // continue the cut entry
                auto more =
                    server.serve(request(root, {*e.stop_path, prefixes[i]}, max_size, proto::kFlagSkipStem, true));
                ++requests;
                e = more.entries.at(0);
                auto r2 = sync.accept(e.nodes);
                EXPECT_TRUE(r2) << to_string(r2.error());
            }
        }
    }
    return requests;
}

TEST(ChunkServerFull, SyncsWholeTrieAtManyChunkSizes) {
    ServedTrie served{1, 3000};
    ChunkServer server{served.nodes, nullptr, [&] { return served.root; }};
    for (std::size_t max_size : {600UL, 4096UL, 64UL * 1024, 4UL * 1024 * 1024}) {
        trie::MemoryNodeStore client;
        std::size_t leaves = 0;
        trie::TrieSync sync{client, served.root, {}, [&](ByteView, ByteView, std::vector<Hash>&) { ++leaves; }};
        const std::size_t requests = sync_full(server, sync, served.root, max_size);
        ASSERT_TRUE(sync.complete()) << max_size;
        EXPECT_EQ(leaves, served.leaves.size());
        EXPECT_EQ(client.size(), served.nodes.size());  // every node, no more
        // The synced store reopens as the same trie.
        trie::Trie t{&client, served.root};
        for (const auto& [k, v] : served.leaves) {
            auto got = t.get(k);
            ASSERT_TRUE(got && *got && **got == v);
        }
        if (max_size >= 4UL * 1024 * 1024) {
            EXPECT_LE(requests, 2U);
        }
    }
}

TEST(ChunkServerFull, StemUnlessSkipped) {
    ServedTrie served{2, 500};
    ChunkServer server{served.nodes, nullptr, [&] { return served.root; }};
    auto with_stem = server.serve(request(served.root, {Nibbles{3, 7}}, 1 << 20, 0));
    auto without = server.serve(request(served.root, {Nibbles{3, 7}}, 1 << 20, proto::kFlagSkipStem));
    ASSERT_FALSE(with_stem.entries[0].error);
    // The stem (root, and the branch at [3]) comes first.
    EXPECT_EQ(with_stem.entries[0].nodes.size(), without.entries[0].nodes.size() + 2);
    EXPECT_EQ(keccak256(with_stem.entries[0].nodes[0]), served.root);
    // A client with nothing but the root can take the chunk with its stem.
    trie::MemoryNodeStore client;
    trie::TrieSync sync{client, served.root};
    EXPECT_TRUE(sync.accept(with_stem.entries[0].nodes));
    // ... but not the one without: its first node is referenced by nothing it holds.
    trie::MemoryNodeStore client2;
    trie::TrieSync sync2{client2, served.root};
    auto r = sync2.accept(without.entries[0].nodes);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), trie::ChunkRejection::kUnexpectedNode);
}

// Counts the nodes a server reads from its store by hash (read_node reads through get_node): what a
// request costs, and a layout scan told from a hash walk.
class CountingStore final : public trie::NodeStore {
  public:
    explicit CountingStore(const trie::NodeStore& inner) : inner_{inner} {}
    std::optional<Bytes> get_node(const Hash& hash) const override {
        ++reads;
        return inner_.get_node(hash);
    }
    void put_node(const Hash&, ByteView) override {}
    mutable std::size_t reads{0};

  private:
    const trie::NodeStore& inner_;
};

// The top of a trie that does not fit whole: the levels that fit, and of the first that does not,
// no more nodes read than it takes to know that (it had 256 here, each a point read on a server).
// A served request reads nothing more to learn that the server has the root.
TEST(ChunkServerFull, TopReadsOnlyWhatItSends) {
    ServedTrie served{4, 3000};
    CountingStore counting{served.nodes};
    ChunkServer server{counting, nullptr, [&] { return served.root; }};
    // Room for the root and the 16 branches below it (about 9 KB), not for the 256 below those.
    auto r = server.serve(request(served.root, {Nibbles{}}, 12 * 1024, 0));
    ASSERT_FALSE(r.entries[0].error);
    EXPECT_EQ(r.entries[0].nodes.size(), 17U);
    EXPECT_LT(counting.reads, 17U + 64U);  // the 3 KB left hold about a dozen of the 256
    trie::MemoryNodeStore client;
    trie::TrieSync sync{client, served.root};
    EXPECT_TRUE(sync.accept(r.entries[0].nodes));

    counting.reads = 0;
    auto chunk = server.serve(request(served.root, {Nibbles{3, 7}}, 1 << 20, 0));
    ASSERT_FALSE(chunk.entries[0].error);
    EXPECT_EQ(counting.reads, chunk.entries[0].nodes.size());
}

TEST(ChunkServerFull, TamperedChunksAreRejectedWhole) {
    ServedTrie served{3, 2000};
    ChunkServer server{served.nodes, nullptr, [&] { return served.root; }};
    auto top = server.serve(request(served.root, {Nibbles{}}, 8 * 1024, 0));
    trie::MemoryNodeStore client;
    trie::TrieSync sync{client, served.root};
    ASSERT_TRUE(sync.accept(top.entries[0].nodes));
    const auto frontier = sync.frontier();
    ASSERT_FALSE(frontier.empty());
    const Nibbles pos = frontier.begin()->first;
    auto chunk = server.serve(request(served.root, {pos}, 1 << 20, proto::kFlagSkipStem)).entries[0].nodes;
    ASSERT_GE(chunk.size(), 2U);
    const auto stored_before = client.size();
    const auto accepted_before = sync.accepted_nodes();
    for (std::size_t i = 0; i < chunk.size(); ++i) {
        auto bad = chunk;
        bad[i][bad[i].size() / 2] ^= 0x01;
        EXPECT_FALSE(sync.accept(bad)) << "node " << i;
        auto dropped = chunk;
        dropped.erase(dropped.begin() + static_cast<std::ptrdiff_t>(i));
        if (i == 0) {
            EXPECT_FALSE(sync.accept(dropped));
        }
    }
    auto reordered = chunk;
    std::swap(reordered[0], reordered[1]);
    EXPECT_FALSE(sync.accept(reordered));
    EXPECT_EQ(client.size(), stored_before);
    EXPECT_EQ(sync.accepted_nodes(), accepted_before);
    EXPECT_TRUE(sync.accept(chunk));
}

TEST(ChunkServerLeaves, PrefixChunksVerifyWithBoundedProofs) {
    ServedTrie served{4, 3000};
    ChunkServer server{served.nodes, nullptr, [&] { return served.root; }};
    std::size_t total = 0;
    for (uint8_t hi = 0; hi < 16; ++hi) {
        const Nibbles prefix{hi};
        trie::PathRange range{prefix, prefix};
        Nibbles from = prefix;
        bool done = false;
        while (!done) {
            auto data = server.serve(request(served.root, {from, prefix}, 16 * 1024, proto::kFlagLeaves, true));
            const auto& e = data.entries.at(0);
            ASSERT_FALSE(e.error);
            ASSERT_TRUE(e.leaf_mode);
            std::vector<Bytes> keys, values;
            for (std::size_t i = 0; i < e.keys.size(); ++i) {
                keys.emplace_back(view(e.keys[i]));
                values.push_back(e.values[i]);
            }
            const Bytes origin = trie::range_min_key({from, prefix});
            if (e.stop_path) {
                ASSERT_TRUE(trie::verify_range_proof(served.root, origin, keys, values, e.proof));
                from = *e.stop_path;
            } else {
                auto ok = trie::verify_bounded_range_proof(served.root, origin, trie::range_max_key(range), keys,
                                                           values, e.proof);
                ASSERT_TRUE(ok) << trie::to_string(ok.error());
                done = true;
            }
            total += keys.size();
        }
    }
    EXPECT_EQ(total, served.leaves.size());
}

// A state: accounts, a third of them with a storage trie (some storage tries shared).
struct ServedState {
    trie::MemoryNodeStore nodes;
    Hash root{};
    std::vector<Hash> storage_roots;

    ServedState(uint64_t seed, std::size_t accounts) {
        std::mt19937_64 rng{seed};
        for (int s = 0; s < 40; ++s) {
            trie::Trie st{&nodes};
            const std::size_t slots = 1 + rng() % (s % 8 == 0 ? 400 : 12);
            for (std::size_t i = 0; i < slots; ++i)
                EXPECT_TRUE(st.put(random_bytes(rng, 32), random_bytes(rng, 1 + rng() % 33)));
            storage_roots.push_back(st.root());
        }
        trie::Trie t{&nodes};
        for (std::size_t i = 0; i < accounts; ++i) {
            state::Account a;
            a.nonce = rng() % 1000;
            if (i % 3 == 0) a.storage_root = storage_roots[rng() % storage_roots.size()];
            EXPECT_TRUE(t.put(random_bytes(rng, 32), state::encode_account(a)));
        }
        root = t.root();
    }
};

Nibbles random_nibbles(std::mt19937_64& rng, std::size_t max_len) {
    Nibbles n(rng() % (max_len + 1), 0);
    for (auto& x : n) x = static_cast<uint8_t>(rng() % 16);
    return n;
}

TEST(ChunkServerPaths, LayoutAnswersAsTheHashWalk) {
    ServedState served{6, 3000};
    store::MemoryKV kv;
    ASSERT_TRUE(store::PathLayout::build(kv, served.nodes, served.root, 4096).ok());
    const store::PathLayout layout{kv};
    ASSERT_TRUE(layout.root());
    EXPECT_EQ(*layout.root(), served.root);

    CountingStore by_hash{served.nodes};
    CountingStore with_layout_store{served.nodes};
    ChunkServer walk{by_hash, nullptr, [&] { return served.root; }};
    ChunkServer scan{with_layout_store, nullptr, [&] { return served.root; }};
    scan.use_paths(&layout);

    std::mt19937_64 rng{7};
    std::vector<Hash> roots{served.root};
    for (const Hash& r : served.storage_roots) roots.push_back(r);
    std::size_t cut = 0, requests = 0;
    for (int i = 0; i < 3000; ++i) {
        const Hash& root = i % 2 == 0 ? served.root : roots[rng() % roots.size()];
        const std::size_t max_size = std::vector<std::size_t>{100, 700, 3000, 20000, 1 << 22}[rng() % 5];
        // Full mode with and without the stem, and leaf mode (its leaves come from the layout too).
        const uint64_t flags = std::vector<uint64_t>{0, proto::kFlagSkipStem, proto::kFlagLeaves}[rng() % 3];
        proto::GetChunks r;
        if (rng() % 2 == 0) {
            std::vector<Nibbles> prefixes;
            for (std::size_t k = 0, n = 1 + rng() % 4; k < n; ++k) {
                Nibbles p = random_nibbles(rng, 4);
                if (p.empty() && i % 50 != 0) p.push_back(static_cast<uint8_t>(rng() % 16));  // few top requests
                prefixes.push_back(p);
            }
            r = request(root, prefixes, max_size, flags);
        } else {
            Nibbles a = random_nibbles(rng, 5), b = random_nibbles(rng, 5);
            if (trie::pad(a, 0) > trie::pad(b, 0xf)) std::swap(a, b);
            r = request(root, {a, b}, max_size, flags, true);
        }
        const auto expected = walk.serve(r);
        const auto got = scan.serve(r);
        ASSERT_EQ(proto::encode(got), proto::encode(expected)) << "request " << i;
        for (const auto& e : expected.entries) cut += e.stop_path.has_value() ? 1U : 0U;
        ++requests;
    }
    EXPECT_GT(cut, 100U);  // cut answers were compared too
    // The top of every trie (the empty prefix): whole when it fits, else cut at a level.
    for (const Hash& root : roots) {
        for (std::size_t max_size : {100UL, 3000UL, 1UL << 22}) {
            const auto r = request(root, {Nibbles{}}, max_size, 0);
            ASSERT_EQ(proto::encode(scan.serve(r)), proto::encode(walk.serve(r))) << max_size;
        }
    }
    // The layout answered: by hash the scan server read little but each request's root (known or
    // not), the few top-of-trie requests (the empty prefix), which it walks by hash, and leaf-mode
    // edge proofs.
    EXPECT_LT(with_layout_store.reads * 4, by_hash.reads);

    // A root the layout does not hold (a trie added after the build) is walked by hash, the same.
    trie::Trie extra{&served.nodes};
    std::mt19937_64 rng2{8};
    for (int k = 0; k < 200; ++k) ASSERT_TRUE(extra.put(random_bytes(rng2, 32), random_bytes(rng2, 40)));
    const Hash other = extra.root();
    EXPECT_EQ(layout.open(other, {}), nullptr);
    const auto r = request(other, {Nibbles{1}, Nibbles{2, 3}}, 2000, 0);
    EXPECT_EQ(proto::encode(scan.serve(r)), proto::encode(walk.serve(r)));
}

TEST(ChunkServerPaths, NoLayoutWithoutItsRecord) {
    ServedState served{9, 300};
    store::MemoryKV kv;
    ASSERT_TRUE(store::PathLayout::build(kv, served.nodes, served.root).ok());
    // An interrupted rebuild: the record goes first, so nothing of the layout is trusted.
    ASSERT_TRUE(kv.del(store::Column::kMeta, view(std::string_view{"path_layout"})).ok());
    const store::PathLayout layout{kv};
    EXPECT_FALSE(layout.root());
    EXPECT_EQ(layout.open(served.root, {}), nullptr);
    // A build over a store that lacks a node fails and leaves no layout.
    trie::MemoryNodeStore partial;
    EXPECT_FALSE(store::PathLayout::build(kv, partial, served.root).ok());
    EXPECT_FALSE(store::PathLayout{kv}.root());
}

TEST(ChunkServer, Errors) {
    ServedTrie served{5, 100};
    ChunkServer server{served.nodes, nullptr, [&] { return served.root; }};
    Hash unknown = served.root;
    unknown[0] ^= 1;
    auto r = server.serve(request(unknown, {Nibbles{1}, Nibbles{2}}, 1000, 0));
    ASSERT_EQ(r.entries.size(), 2U);
    for (const auto& e : r.entries) {
        ASSERT_TRUE(e.error);
        EXPECT_EQ(*e.error, proto::ChunkError::kUnknownRoot);
        EXPECT_EQ(e.error_data, Bytes{view(served.root)});
    }
    // A store with the root but not what is below it (a node still syncing): no chunk, not an
    // unknown root.
    trie::MemoryNodeStore partial;
    partial.put_node(served.root, *served.nodes.get_node(served.root));
    ChunkServer partial_server{partial, nullptr, [&] { return served.root; }};
    r = partial_server.serve(request(served.root, {Nibbles{1}}, 1000, 0));
    ASSERT_TRUE(r.entries[0].error);
    EXPECT_EQ(*r.entries[0].error, proto::ChunkError::kNoChunk);
    r = server.serve(request(served.root, {Nibbles{1}}, 0, 0));
    EXPECT_EQ(*r.entries[0].error, proto::ChunkError::kInvalidRequest);
    r = server.serve(request(served.root, {Nibbles{9}, Nibbles{2}}, 1000, 0, true));  // from after to
    EXPECT_EQ(*r.entries[0].error, proto::ChunkError::kInvalidRequest);

    // Rate limit: past the burst, back off.
    ServerOptions tight;
    tight.requests_per_second = 1;
    tight.burst = 2;
    ChunkServer limited{served.nodes, nullptr, [&] { return served.root; }, tight};
    const Bytes frame = proto::encode(request(served.root, {Nibbles{1}}, 1000, 0));
    int back_offs = 0;
    for (int i = 0; i < 5; ++i) {
        limited.on_frame(7, frame, proto::Time{0});
        for (const auto& out : limited.take_outbox()) {
            auto d = proto::decode_chunk_data(out.frame);
            ASSERT_TRUE(d);
            if (d->entries[0].error && *d->entries[0].error == proto::ChunkError::kBackOff) ++back_offs;
        }
    }
    EXPECT_EQ(back_offs, 3);
    // Garbage gets the peer dropped.
    limited.on_frame(8, Bytes{0x10, 0xff}, proto::Time{0});
    EXPECT_EQ(limited.take_disconnects().size(), 1U);
    // Every answer is counted by kind, the errors included.
    EXPECT_EQ(limited.stats().data_entries, 2U);
    EXPECT_EQ(limited.stats().back_off, 3U);
    EXPECT_EQ(limited.stats().peers_dropped, 1U);
    const ServerStats& st = server.stats();
    EXPECT_EQ(st.unknown_root, 2U);
    EXPECT_EQ(st.invalid, 2U);
    EXPECT_EQ(st.no_chunk, 0U);
    EXPECT_EQ(partial_server.stats().no_chunk, 1U);
    EXPECT_EQ(st.errors(), 4U);
    const std::string line = describe(limited.stats());
    EXPECT_NE(line.find("2 with data, 0 0x0 unknown root, 0 0x1 no chunk, 3 0x2 back-off, 0 0x4 invalid"),
              std::string::npos)
        << line;
    EXPECT_NE(line.find("1 peers dropped"), std::string::npos) << line;
}

}  // namespace
}  // namespace carousel::prefix
