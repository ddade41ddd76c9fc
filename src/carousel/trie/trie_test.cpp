// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// ethereum/tests TrieTests (tests/data/ethereum-tests/TrieTests, see tests/data/README.md) and
// property tests of Trie against HashBuilder.
#include <algorithm>
#include <fstream>
#include <map>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::trie {
namespace {

using nlohmann::json;

json load(const std::string& name) {
    std::ifstream f{std::string{CAROUSEL_TEST_DATA} + "/ethereum-tests/TrieTests/" + name};
    EXPECT_TRUE(f.good()) << name;
    return json::parse(f);
}

// A TrieTests string: "0x..." is hex, anything else its ASCII bytes.
Bytes decode_test_string(const json& j) {
    if (j.is_null()) return {};
    const std::string s = j.get<std::string>();
    if (s.rfind("0x", 0) == 0) return *from_hex(s);
    return to_bytes(s);
}

void run_case(const std::string& file, const std::string& name, const json& test, bool secure) {
    SCOPED_TRACE(file + ":" + name);
    Trie trie;
    auto apply = [&](const json& k, const json& v) {
        Bytes key = decode_test_string(k);
        if (secure) key = Bytes{view(keccak256(key))};
        ASSERT_TRUE(trie.put(key, decode_test_string(v)));
    };
    const json& in = test["in"];
    if (in.is_array()) {
        for (const auto& kv : in) apply(kv[0], kv[1]);
    } else {
        for (const auto& [k, v] : in.items()) apply(json(k), v);
    }
    EXPECT_EQ(to_hex_prefixed(view(trie.root())), test["root"].get<std::string>());
}

class EthereumTrieTests : public ::testing::TestWithParam<std::pair<std::string, bool>> {};

TEST_P(EthereumTrieTests, RootMatches) {
    const auto& [file, secure] = GetParam();
    const json tests = load(file);
    ASSERT_FALSE(tests.empty());
    for (const auto& [name, test] : tests.items()) run_case(file, name, test, secure);
}

INSTANTIATE_TEST_SUITE_P(AllFiles, EthereumTrieTests,
                         ::testing::Values(std::pair{"trietest.json", false}, std::pair{"trieanyorder.json", false},
                                           std::pair{"trietest_secureTrie.json", true},
                                           std::pair{"trieanyorder_secureTrie.json", true},
                                           std::pair{"hex_encoded_securetrie_test.json", true}));

TEST(EthereumTrieTests, NextPrev) {
    const json tests = load("trietestnextprev.json");
    for (const auto& [name, test] : tests.items()) {
        Trie trie;
        for (const auto& k : test["in"]) ASSERT_TRUE(trie.put(decode_test_string(k), view("a")));
        for (const auto& t : test["tests"]) {
            const Bytes key = decode_test_string(t[0]);
            auto prev = trie.prev_key(key);
            auto next = trie.next_key(key);
            ASSERT_TRUE(prev && next);
            EXPECT_EQ(prev->value_or(Bytes{}), decode_test_string(t[1])) << t.dump();
            EXPECT_EQ(next->value_or(Bytes{}), decode_test_string(t[2])) << t.dump();
        }
    }
}

// The secure any-order cases through HashBuilder (32-byte keys, sorted).
TEST(EthereumTrieTests, SecureAnyOrderThroughHashBuilder) {
    for (const std::string file : {"trieanyorder_secureTrie.json", "hex_encoded_securetrie_test.json"}) {
        const json tests = load(file);
        for (const auto& [name, test] : tests.items()) {
            std::map<Bytes, Bytes> sorted;
            for (const auto& [k, v] : test["in"].items()) {
                sorted[Bytes{view(keccak256(decode_test_string(json(k))))}] = decode_test_string(v);
            }
            HashBuilder hb;
            for (const auto& [k, v] : sorted) hb.add_leaf(k, v);
            EXPECT_EQ(to_hex_prefixed(view(hb.root())), test["root"].get<std::string>()) << file << ":" << name;
        }
    }
}

Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
    Bytes b(n, 0);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return b;
}

// Random keys inserted and deleted in random order give the root HashBuilder computes on the final
// sorted set; values of every size cross the 32-byte embedding threshold.
TEST(TrieProperty, RandomInsertDeleteMatchesHashBuilder) {
    std::mt19937_64 rng{20261122};
    for (int round = 0; round < 40; ++round) {
        const std::size_t n = 1 + rng() % (round < 20 ? 40 : 2000);
        // Few distinct leading bytes at times, to force long shared prefixes and extensions.
        const bool clustered = round % 3 == 0;
        std::map<Bytes, Bytes> model;
        Trie trie;
        for (std::size_t i = 0; i < n * 2; ++i) {
            Bytes key = random_bytes(rng, 32);
            if (clustered) {
                key[0] = 0xab;
                key[1] = static_cast<uint8_t>(rng() % 3);
            }
            if (!model.empty() && rng() % 3 == 0) {
                auto it = model.lower_bound(key);
                if (it == model.end()) it = model.begin();
                key = it->first;
                ASSERT_TRUE(trie.erase(key));
                model.erase(key);
            } else {
                const Bytes value = random_bytes(rng, 1 + rng() % 70);
                ASSERT_TRUE(trie.put(key, value));
                model[key] = value;
            }
            if (rng() % 50 == 0) trie.root();  // interleave hashing with updates
        }
        HashBuilder hb;
        for (const auto& [k, v] : model) hb.add_leaf(k, v);
        ASSERT_EQ(to_hex(trie.root()), to_hex(hb.root())) << "round " << round << " n " << model.size();
        for (const auto& [k, v] : model) {
            auto got = trie.get(k);
            ASSERT_TRUE(got && *got && **got == v);
        }
    }
}

TEST(TrieProperty, DeleteEverythingGivesEmptyRoot) {
    std::mt19937_64 rng{7};
    Trie trie;
    std::vector<Bytes> keys;
    for (int i = 0; i < 500; ++i) {
        keys.push_back(random_bytes(rng, 1 + rng() % 5));
        ASSERT_TRUE(trie.put(keys.back(), view("v")));
    }
    EXPECT_NE(trie.root(), kEmptyRoot);
    std::shuffle(keys.begin(), keys.end(), rng);
    for (const auto& k : keys) ASSERT_TRUE(trie.erase(k));
    EXPECT_EQ(trie.root(), kEmptyRoot);
}

TEST(Trie, ReopensFromNodeStore) {
    std::mt19937_64 rng{11};
    MemoryNodeStore store;
    Trie trie{&store};
    std::map<Bytes, Bytes> model;
    for (int i = 0; i < 300; ++i) {
        Bytes k = random_bytes(rng, 32), v = random_bytes(rng, 1 + rng() % 40);
        ASSERT_TRUE(trie.put(k, v));
        model[k] = v;
    }
    const Hash root = trie.root();
    Trie reopened{&store, root};
    for (const auto& [k, v] : model) {
        auto got = reopened.get(k);
        ASSERT_TRUE(got && *got && **got == v);
    }
    // Modify the reopened trie: it loads what it touches and reaches the same root as the original.
    const Bytes extra = random_bytes(rng, 32);
    ASSERT_TRUE(reopened.put(extra, view("x")));
    ASSERT_TRUE(trie.put(extra, view("x")));
    EXPECT_EQ(reopened.root(), trie.root());
    ASSERT_TRUE(reopened.erase(extra));
    EXPECT_EQ(reopened.root(), root);

    MemoryNodeStore empty;
    Trie missing{&empty, root};
    auto got = missing.get(model.begin()->first);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), TrieError::kMissingNode);
}

}  // namespace
}  // namespace carousel::trie

namespace carousel::trie {
namespace {

// Counts references: put_node adds one, release_node takes one away.
class CountingNodeStore final : public NodeStore {
  public:
    std::optional<Bytes> get_node(const Hash& hash) const override {
        auto it = nodes_.find(hash);
        if (it == nodes_.end() || it->second.second <= 0) return std::nullopt;
        return it->second.first;
    }
    void put_node(const Hash& hash, ByteView rlp) override {
        auto& e = nodes_[hash];
        e.first = Bytes{rlp};
        ++e.second;
    }
    void release_node(const Hash& hash) override { --nodes_[hash].second; }

    std::map<Hash, int> live() const {
        std::map<Hash, int> out;
        for (const auto& [h, e] : nodes_) {
            EXPECT_GE(e.second, 0) << "released more often than put";
            if (e.second > 0) out[h] = e.second;
        }
        return out;
    }

  private:
    std::map<Hash, std::pair<Bytes, int>> nodes_;
};

// After any sequence of updates, the nodes the trie still references are exactly those of the
// current trie: a store counting put/release references could delete the rest.
TEST(TrieReferences, LiveNodesAreExactlyTheCurrentTrie) {
    std::mt19937_64 rng{31};
    CountingNodeStore store;
    Trie trie{&store};
    std::map<Bytes, Bytes> model;
    for (int round = 0; round < 30; ++round) {
        for (int i = 0; i < 100; ++i) {
            if (!model.empty() && rng() % 3 == 0) {
                auto it = model.begin();
                std::advance(it, static_cast<std::ptrdiff_t>(rng() % model.size()));
                ASSERT_TRUE(trie.erase(it->first));
                model.erase(it);
            } else {
                Bytes k = random_bytes(rng, 32), v = random_bytes(rng, 1 + rng() % 50);
                if (!model.empty() && rng() % 4 == 0) k = model.begin()->first;  // overwrite
                ASSERT_TRUE(trie.put(k, v));
                model[k] = v;
            }
        }
        const Hash root = trie.root();
        std::map<Hash, int> expected;
        HashBuilder hb{[&](ByteView, const Hash& h, ByteView) { ++expected[h]; }};
        for (const auto& [k, v] : model) hb.add_leaf(k, v);
        ASSERT_EQ(hb.root(), root);
        ASSERT_EQ(store.live(), expected) << "round " << round;
    }
}

}  // namespace
}  // namespace carousel::trie

namespace carousel::trie {
namespace {

TEST(Trie, ForEachFromVisitsTheTailInOrder) {
    std::mt19937_64 rng{41};
    Trie trie;
    std::map<Bytes, Bytes> model;
    for (int i = 0; i < 400; ++i) {
        Bytes k = random_bytes(rng, 32);
        ASSERT_TRUE(trie.put(k, view("v")));
        model[k] = to_bytes("v");
    }
    for (int t = 0; t < 50; ++t) {
        const Bytes from = t == 0 ? model.begin()->first : random_bytes(rng, 32);
        std::vector<Bytes> got;
        ASSERT_TRUE(trie.for_each_from(from, [&](ByteView k, ByteView) {
            got.emplace_back(k);
            return got.size() < 10;
        }));
        std::vector<Bytes> want;
        for (auto it = model.lower_bound(from); it != model.end() && want.size() < 10; ++it) want.push_back(it->first);
        EXPECT_EQ(got, want);
    }
}

}  // namespace
}  // namespace carousel::trie
