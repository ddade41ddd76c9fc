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
#include <carousel/core/nibbles.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/node.hpp>
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

namespace carousel::trie {
namespace {

// Random contents for the batched-hashing tests: 32-byte keys, or 1..3-byte keys with 1-byte values
// (nodes under 32 bytes embedded in their parent, and roots under 32 bytes).
void random_updates(std::mt19937_64& rng, Trie& trie, std::map<Bytes, Bytes>& model, std::size_t n, bool tiny) {
    for (std::size_t i = 0; i < n; ++i) {
        Bytes k = tiny ? random_bytes(rng, 1 + rng() % 3) : random_bytes(rng, 32);
        if (!model.empty() && rng() % 4 == 0) {
            auto it = model.begin();
            std::advance(it, static_cast<std::ptrdiff_t>(rng() % model.size()));
            k = it->first;
        }
        if (rng() % 5 == 0) {
            ASSERT_TRUE(trie.erase(k));
            model.erase(k);
        } else {
            const Bytes v = tiny ? random_bytes(rng, 1) : random_bytes(rng, 1 + rng() % 60);
            ASSERT_TRUE(trie.put(k, v));
            model[k] = v;
        }
    }
}

// The RLP of the node holding `items` (unpacked keys, sorted, all at least `depth` long) below
// nibble `depth`: the recursive definition of Yellow Paper Appendix D, as independent of Trie as
// can be (no incremental state); keys may be prefixes of others.
Bytes reference_node(const std::vector<std::pair<Nibbles, Bytes>>& items, std::size_t depth) {
    Bytes out;
    if (items.size() == 1) {
        encode_leaf(out, ByteView{items[0].first}.substr(depth), items[0].second);
        return out;
    }
    std::size_t cp = items[0].first.size();
    for (const auto& [k, v] : items) cp = std::min(cp, common_prefix_length(k, items[0].first));
    if (cp > depth) {
        const Bytes child = make_reference(reference_node(items, cp));
        encode_extension(out, ByteView{items[0].first}.substr(depth, cp - depth), child);
        return out;
    }
    std::array<std::vector<std::pair<Nibbles, Bytes>>, 16> groups;
    Bytes value;
    for (const auto& item : items) {
        if (item.first.size() == depth) {
            value = item.second;
        } else {
            groups[item.first[depth]].push_back(item);
        }
    }
    std::array<Bytes, 16> refs;
    std::array<ByteView, 16> views{};
    for (std::size_t i = 0; i < 16; ++i) {
        if (!groups[i].empty()) refs[i] = make_reference(reference_node(groups[i], depth + 1));
        views[i] = refs[i];
    }
    encode_branch(out, views, value);
    return out;
}

Hash reference_root(const std::map<Bytes, Bytes>& model) {
    if (model.empty()) return kEmptyRoot;
    std::vector<std::pair<Nibbles, Bytes>> items;
    for (const auto& [k, v] : model) items.emplace_back(unpack_nibbles(k), v);
    return keccak256(reference_node(items, 0));
}

// Trie::roots hashes many tries together, level by level, in batches; it must give each trie the
// root root() gives, write the same nodes with the same reference counts, and leave the tries as
// root() would (further updates and hashing agree). Sizes from empty to a few thousand keys; tiny
// tries have embedded nodes and roots under 32 bytes.
TEST(TrieRoots, ManyTriesAtOnceMatchOneAtATime) {
    std::mt19937_64 rng{424242};
    CountingNodeStore batched_store, single_store;
    constexpr std::size_t kTries = 40;
    std::vector<Trie> batched, single;
    std::vector<std::map<Bytes, Bytes>> models(kTries);
    for (std::size_t t = 0; t < kTries; ++t) {
        batched.emplace_back(&batched_store);
        single.emplace_back(&single_store);
    }
    for (int round = 0; round < 6; ++round) {
        for (std::size_t t = 0; t < kTries; ++t) {
            const bool tiny = t % 4 == 0;
            const std::size_t n = t % 5 == 1 ? 0 : (t % 7 == 2 ? 800 : 1 + rng() % 60);
            std::mt19937_64 copy = rng;  // the same updates on both tries
            std::map<Bytes, Bytes> model_copy = models[t];
            random_updates(rng, batched[t], models[t], n, tiny);
            random_updates(copy, single[t], model_copy, n, tiny);
        }
        std::vector<Trie*> ptrs;
        for (Trie& t : batched) ptrs.push_back(&t);
        std::vector<Hash> roots(kTries);
        Trie::roots(ptrs, roots);
        for (std::size_t t = 0; t < kTries; ++t) {
            const Hash expected = single[t].root();
            ASSERT_EQ(to_hex(roots[t]), to_hex(expected)) << "round " << round << " trie " << t;
            ASSERT_EQ(to_hex(roots[t]), to_hex(reference_root(models[t]))) << "round " << round << " trie " << t;
        }
        ASSERT_TRUE(batched_store.live() == single_store.live()) << "round " << round;
        for (std::size_t t = 0; t < kTries; ++t) {  // nothing left dirty (a short root is put again)
            ASSERT_EQ(batched[t].root(), single[t].root());
        }
    }
}

// A trie reopened at a root knows its branches' children by hash only until it walks them. Updates
// and deletions through such children (including the collapse of a branch whose last other child
// was never loaded) give HashBuilder's root and release exactly the replaced nodes.
TEST(TrieReferences, ReopenedTriesUpdateThroughUnloadedChildren) {
    std::mt19937_64 rng{97};
    CountingNodeStore store;
    std::map<Bytes, Bytes> model;
    Hash root = kEmptyRoot;
    for (int round = 0; round < 40; ++round) {
        Trie trie{&store, root};
        random_updates(rng, trie, model, round < 20 ? 1 + rng() % 8 : 50 + rng() % 200, /*tiny=*/false);
        root = trie.root();
        std::map<Hash, int> expected;
        HashBuilder hb{[&](ByteView, const Hash& h, ByteView) { ++expected[h]; }};
        for (const auto& [k, v] : model) hb.add_leaf(k, v);
        ASSERT_EQ(to_hex(hb.root()), to_hex(root)) << "round " << round;
        // The root of a non-empty trie stays referenced even after the trie is gone.
        ASSERT_EQ(store.live(), expected) << "round " << round;
        if (round % 5 == 4) {  // walks over a freshly reopened trie load what they pass
            Trie walker{&store, root};
            std::map<Bytes, Bytes> seen;
            ASSERT_TRUE(walker.for_each([&](ByteView k, ByteView v) { seen.emplace(k, v); }));
            ASSERT_EQ(seen, model);
            if (!model.empty()) {
                Trie stepper{&store, root};
                auto next = stepper.next_key(model.begin()->first);
                ASSERT_TRUE(next);
                EXPECT_EQ(next->has_value(), model.size() > 1);
                if (model.size() > 1) {
                    EXPECT_EQ(**next, std::next(model.begin())->first);
                }
            }
        }
    }
    // Down to empty through reopened tries.
    for (auto it = model.begin(); it != model.end();) {
        Trie trie{&store, root};
        for (int i = 0; i < 37 && it != model.end(); ++i, ++it) ASSERT_TRUE(trie.erase(it->first));
        root = trie.root();
    }
    EXPECT_EQ(root, kEmptyRoot);
    EXPECT_TRUE(store.live().empty());
}

}  // namespace
}  // namespace carousel::trie

namespace carousel::trie {
namespace {

// Trie::prefetch loads the paths of many keys of several tries at once. It is a hint: afterwards
// gets, puts and roots are exactly those of tries that were not prefetched, it writes and releases
// nothing, and keys that are absent, short, long or under a missing node are harmless.
TEST(TriePrefetch, IsOnlyAHint) {
    std::mt19937_64 rng{2026};
    CountingNodeStore store;
    constexpr std::size_t kTries = 12;
    std::vector<std::map<Bytes, Bytes>> models(kTries);
    std::vector<Hash> roots(kTries, kEmptyRoot);
    for (std::size_t t = 0; t < kTries; ++t) {
        Trie trie{&store};
        random_updates(rng, trie, models[t], t % 3 == 0 ? 1 + t : 300, /*tiny=*/t % 4 == 1);
        roots[t] = trie.root();
    }
    CountingNodeStore plain_store = store;  // each store counts the references of one set of tries
    for (int round = 0; round < 4; ++round) {
        const std::map<Hash, int> live = store.live();
        std::vector<Trie> prefetched, plain;
        for (std::size_t t = 0; t < kTries; ++t) {
            prefetched.emplace_back(&store, roots[t]);
            plain.emplace_back(&plain_store, roots[t]);
        }
        std::vector<Bytes> keys;  // present, absent, and odd lengths
        std::vector<std::size_t> owner;
        for (std::size_t t = 0; t < kTries; ++t) {
            for (const auto& [k, v] : models[t]) {
                if (rng() % 3 == 0) {
                    keys.push_back(k);
                    owner.push_back(t);
                }
            }
            keys.push_back(random_bytes(rng, 32));
            keys.push_back(random_bytes(rng, rng() % 3));
            keys.push_back(random_bytes(rng, 40));
            owner.insert(owner.end(), 3, t);
        }
        std::vector<Trie::KeyOf> of;
        for (std::size_t i = 0; i < keys.size(); ++i) of.push_back({&prefetched[owner[i]], keys[i]});
        Trie::prefetch(of);
        std::size_t loaded = 0;
        for (const Trie& t : prefetched) loaded += t.loaded_nodes();
        EXPECT_GT(loaded, 0U);
        ASSERT_EQ(store.live(), live) << "prefetch wrote or released nodes";
        for (std::size_t i = 0; i < keys.size(); ++i) {
            auto a = prefetched[owner[i]].get(keys[i]);
            auto b = plain[owner[i]].get(keys[i]);
            ASSERT_TRUE(a && b);
            ASSERT_EQ(*a, *b) << "key " << i;
        }
        // The same updates on both give the same roots.
        for (std::size_t t = 0; t < kTries; ++t) {
            const Hash before = prefetched[t].root();
            ASSERT_EQ(before, roots[t]);
            std::mt19937_64 copy = rng;
            std::map<Bytes, Bytes> model_copy = models[t];
            random_updates(rng, prefetched[t], models[t], 40, /*tiny=*/t % 4 == 1);
            random_updates(copy, plain[t], model_copy, 40, /*tiny=*/t % 4 == 1);
            roots[t] = prefetched[t].root();
            ASSERT_EQ(to_hex(roots[t]), to_hex(plain[t].root()));
            ASSERT_EQ(to_hex(roots[t]), to_hex(reference_root(models[t])));
        }
        ASSERT_EQ(store.live(), plain_store.live());
    }
}

// A node missing from the store stops only the prefetch of the paths through it; the get that
// needs it still reports kMissingNode.
TEST(TriePrefetch, MissingNodeIsLeftToTheWalk) {
    MemoryNodeStore full;
    Trie trie{&full};
    std::mt19937_64 rng{5};
    std::vector<Bytes> keys;
    for (int i = 0; i < 200; ++i) {
        keys.push_back(random_bytes(rng, 32));
        ASSERT_TRUE(trie.put(keys.back(), random_bytes(rng, 20)));
    }
    const Hash root = trie.root();
    MemoryNodeStore root_only;  // just the root node: every child is missing
    root_only.put_node(root, *full.get_node(root));
    Trie broken{&root_only, root};
    std::vector<Trie::KeyOf> of;
    for (const Bytes& k : keys) of.push_back({&broken, k});
    Trie::prefetch(of);
    EXPECT_EQ(broken.loaded_nodes(), 1U);
    auto v = broken.get(keys[0]);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error(), TrieError::kMissingNode);
}

}  // namespace
}  // namespace carousel::trie

namespace carousel::trie {
namespace {

// exchange() is put (or erase, for an empty value) that also returns the value it replaced: the
// same roots as put/erase, and the model's value before each update, for present and absent keys,
// keys that are prefixes of others (branch values), and through a reopened trie's unloaded nodes.
TEST(TrieExchange, ReturnsTheReplacedValue) {
    std::mt19937_64 rng{77};
    MemoryNodeStore store;
    std::map<Bytes, Bytes> model;
    Hash root = kEmptyRoot;
    for (int round = 0; round < 20; ++round) {
        Trie trie{&store, root};
        Trie plain{&store, root};
        const bool tiny = round % 2 == 1;  // short keys, prefixes of one another
        for (int i = 0; i < 120; ++i) {
            Bytes k = tiny ? random_bytes(rng, rng() % 4) : random_bytes(rng, 32);
            if (!model.empty() && rng() % 3 == 0) {
                auto it = model.begin();
                std::advance(it, static_cast<std::ptrdiff_t>(rng() % model.size()));
                k = it->first;
            }
            const Bytes v = rng() % 4 == 0 ? Bytes{} : random_bytes(rng, 1 + rng() % 40);
            Bytes old{0x01, 0x02};  // overwritten
            ASSERT_TRUE(trie.exchange(k, v, old));
            const auto it = model.find(k);
            ASSERT_EQ(old, it == model.end() ? Bytes{} : it->second) << "round " << round << " update " << i;
            ASSERT_TRUE(plain.put(k, v));
            if (v.empty()) {
                model.erase(k);
            } else {
                model[k] = v;
            }
        }
        root = trie.root();
        ASSERT_EQ(to_hex(root), to_hex(plain.root()));
        ASSERT_EQ(to_hex(root), to_hex(reference_root(model)));
    }
}

}  // namespace
}  // namespace carousel::trie

namespace carousel::trie {
namespace {

// exchange_all() splits updates by the halves of a branch root over two threads: the same replaced
// values, roots and stored nodes as exchange() one at a time, through nodes not loaded yet, with
// creations, changes, deletions, a root that collapses to one slot and then empties; a node missing
// from the store is reported at the first update that needs it.
TEST(TrieExchangeAll, MatchesOneExchangeAtATime) {
    std::mt19937_64 rng{91};
    ForkJoin fork;
    MemoryNodeStore store;  // allows concurrent reads
    MemoryNodeStore plain_store;
    std::map<Bytes, Bytes> model;
    Hash root = kEmptyRoot;
    for (int round = 0; round < 12; ++round) {
        Trie split{&store, root};  // opened anew: updates load what they touch
        Trie plain{&plain_store, root};
        std::map<Bytes, Bytes> changes;
        if (round < 10) {
            const std::size_t n = round == 0 ? 3000 : 50 + rng() % 400;
            while (changes.size() < n) {
                Bytes k = random_bytes(rng, 32);
                if (!model.empty() && rng() % 2 == 0) {
                    auto it = model.begin();
                    std::advance(it, static_cast<std::ptrdiff_t>(rng() % model.size()));
                    k = it->first;
                }
                changes[k] = rng() % 3 == 0 ? Bytes{} : random_bytes(rng, 1 + rng() % 70);
            }
        } else {
            // Round 10 deletes every key outside the root's slot 0 (the root branch collapses); round 11
            // deletes the rest.
            for (const auto& [k, v] : model) {
                if (round == 11 || k[0] >= 0x10) changes[k] = Bytes{};
            }
        }
        std::vector<Bytes> olds(changes.size());
        std::vector<Trie::Update> updates;
        for (const auto& [k, v] : changes) updates.push_back({k, v, &olds[updates.size()]});
        ASSERT_TRUE(split.exchange_all(updates, fork)) << "round " << round;
        std::size_t i = 0;
        for (const auto& [k, v] : changes) {
            Bytes old;
            ASSERT_TRUE(plain.exchange(k, v, old));
            ASSERT_EQ(olds[i], old) << "round " << round << " update " << i;
            const auto it = model.find(k);
            ASSERT_EQ(old, it == model.end() ? Bytes{} : it->second);
            if (v.empty()) {
                model.erase(k);
            } else {
                model[k] = v;
            }
            ++i;
        }
        root = split.root(fork);
        ASSERT_EQ(to_hex(root), to_hex(plain.root())) << "round " << round;
        ASSERT_EQ(to_hex(root), to_hex(reference_root(model))) << "round " << round;
        if (round == 10) {
            ASSERT_FALSE(model.empty());
            ASSERT_EQ(store.size(), plain_store.size());
        }
    }
    EXPECT_EQ(root, kEmptyRoot);
    EXPECT_EQ(store.size(), plain_store.size());
}

TEST(TrieExchangeAll, MissingNodeIsReportedAtTheFirstUpdateThatNeedsIt) {
    std::mt19937_64 rng{92};
    ForkJoin fork;
    MemoryNodeStore full;
    Trie trie{&full};
    std::vector<Bytes> keys;
    for (int i = 0; i < 2000; ++i) {
        keys.push_back(random_bytes(rng, 32));
        ASSERT_TRUE(trie.put(keys.back(), random_bytes(rng, 20)));
    }
    std::sort(keys.begin(), keys.end());
    const Hash root = trie.root();
    MemoryNodeStore root_only;  // just the root branch: every child is missing
    root_only.put_node(root, *full.get_node(root));
    Trie broken{&root_only, root};
    std::vector<Bytes> olds(200);
    std::vector<Trie::Update> updates;
    for (std::size_t i = 0; i < olds.size(); ++i) updates.push_back({keys[i * 10], view("v"), &olds[i]});
    auto r = broken.exchange_all(updates, fork);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().index, 0U);
    EXPECT_EQ(r.error().error, TrieError::kMissingNode);
}

}  // namespace
}  // namespace carousel::trie
