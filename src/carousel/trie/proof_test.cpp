// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Proof verification by mutation, after go-ethereum's trie/proof_test.go (TestBadRangeProof and
// friends), plus the non-minimal proofs go-ethereum accepts and carousel rejects.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <random>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/proof.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::trie {
namespace {

Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
    Bytes b(n, 0);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return b;
}

struct Fixture {
    Trie trie;
    std::map<Bytes, Bytes> leaves;
    Hash root{};

    Fixture(std::mt19937_64& rng, std::size_t n, std::size_t value_size = 0) {
        for (std::size_t i = 0; i < n; ++i) {
            Bytes k = random_bytes(rng, 32);
            Bytes v = random_bytes(rng, value_size != 0 ? value_size : 1 + rng() % 60);
            EXPECT_TRUE(trie.put(k, v));
            leaves[k] = v;
        }
        root = trie.root();
    }

    std::vector<Bytes> prove(std::initializer_list<ByteView> keys) {
        std::vector<Bytes> ks;
        for (auto k : keys) ks.emplace_back(k);
        return *trie.prove(ks);
    }
};

TEST(Proof, InclusionAndExclusion) {
    std::mt19937_64 rng{1};
    for (std::size_t n : {1UL, 2UL, 3UL, 17UL, 500UL}) {
        Fixture f{rng, n};
        for (const auto& [k, v] : f.leaves) {
            auto proof = f.trie.prove(k);
            ASSERT_TRUE(proof);
            auto got = verify_proof(f.root, k, *proof);
            ASSERT_TRUE(got) << to_string(got.error());
            ASSERT_TRUE(got->has_value());
            EXPECT_EQ(**got, v);
        }
        for (int i = 0; i < 50; ++i) {
            const Bytes absent = random_bytes(rng, 32);
            auto proof = f.trie.prove(absent);
            auto got = verify_proof(f.root, absent, *proof);
            ASSERT_TRUE(got) << to_string(got.error());
            EXPECT_FALSE(got->has_value());
        }
    }
}

TEST(Proof, VariableLengthKeys) {
    Trie trie;
    for (const char* k : {"do", "dog", "doge", "horse", "d"})
        ASSERT_TRUE(trie.put(view(k), view("value-of-some-length")));
    const Hash root = trie.root();
    for (const char* k : {"do", "dog", "doge", "horse", "d", "dogs", "a", "hors"}) {
        auto proof = trie.prove(view(k));
        auto got = verify_proof(root, view(k), *proof);
        ASSERT_TRUE(got) << k << ": " << to_string(got.error());
        EXPECT_EQ(got->has_value(),
                  std::string_view{k} != "dogs" && std::string_view{k} != "a" && std::string_view{k} != "hors");
    }
}

TEST(Proof, RejectsBadProofs) {
    std::mt19937_64 rng{2};
    Fixture f{rng, 300};
    const Bytes key = f.leaves.begin()->first;
    const Bytes other = std::prev(f.leaves.end())->first;
    auto proof = *f.trie.prove(key);
    ASSERT_GE(proof.size(), 2U);

    // Every node removed: the path breaks.
    for (std::size_t i = 0; i < proof.size(); ++i) {
        auto p = proof;
        p.erase(p.begin() + static_cast<std::ptrdiff_t>(i));
        auto r = verify_proof(f.root, key, p);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), ProofError::kMissingNode);
    }
    // Every byte of every node flipped: the node no longer hashes to its reference.
    for (std::size_t i = 0; i < proof.size(); ++i) {
        for (std::size_t b = 0; b < proof[i].size(); ++b) {
            auto p = proof;
            p[i][b] ^= 0x01;
            EXPECT_FALSE(verify_proof(f.root, key, p)) << "node " << i << " byte " << b;
        }
    }
    // A node off the path (non-minimal proof); a node given twice.
    auto extra = proof;
    const auto other_proof = f.trie.prove(other);
    for (const auto& n : *other_proof) {
        if (std::find(proof.begin(), proof.end(), n) == proof.end()) extra.push_back(n);
    }
    auto r = verify_proof(f.root, key, extra);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), ProofError::kUnusedNode);
    auto dup = proof;
    dup.push_back(proof.back());
    r = verify_proof(f.root, key, dup);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), ProofError::kDuplicateNode);
    // Another root.
    Hash wrong = f.root;
    wrong[5] ^= 1;
    EXPECT_FALSE(verify_proof(wrong, key, proof));
    // Garbage nodes never crash.
    std::vector<Bytes> garbage = {Bytes{0xc0}, Bytes{0xf8, 0xff}, random_bytes(rng, 100)};
    EXPECT_FALSE(verify_proof(f.root, key, garbage));
}

TEST(Proof, Multiproof) {
    std::mt19937_64 rng{3};
    Fixture f{rng, 1000};
    std::vector<Bytes> keys;
    auto it = f.leaves.begin();
    for (int i = 0; i < 20; ++i, std::advance(it, 37)) keys.push_back(it->first);
    for (int i = 0; i < 10; ++i) keys.push_back(random_bytes(rng, 32));
    auto proof = *f.trie.prove(keys);
    auto got = verify_multiproof(f.root, keys, proof);
    ASSERT_TRUE(got) << to_string(got.error());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        auto found = f.leaves.find(keys[i]);
        if (found == f.leaves.end()) {
            EXPECT_FALSE((*got)[i].has_value());
        } else {
            ASSERT_TRUE((*got)[i].has_value());
            EXPECT_EQ(*(*got)[i], found->second);
        }
    }
    for (std::size_t i = 0; i < proof.size(); ++i) {
        auto p = proof;
        p.erase(p.begin() + static_cast<std::ptrdiff_t>(i));
        EXPECT_FALSE(verify_multiproof(f.root, keys, p));
    }
    // Fewer keys than the proof covers: the nodes only the dropped key used are off-path.
    std::vector<Bytes> fewer(keys.begin() + 1, keys.end());
    auto r = verify_multiproof(f.root, fewer, proof);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), ProofError::kUnusedNode);
}

// A range of leaves [first, first + count) of the fixture, proved from `origin`.
struct Range {
    Bytes origin;
    std::vector<Bytes> keys, values, proof;
};

Range make_range(Fixture& f, std::size_t first, std::size_t count, bool origin_below_first = false) {
    Range r;
    auto it = f.leaves.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(first));
    r.origin = it->first;
    if (origin_below_first) {  // an origin strictly between the previous key and the first
        for (std::size_t i = 31; i > 0; --i) {
            if (r.origin[i] != 0) {
                --r.origin[i];
                break;
            }
        }
    }
    for (std::size_t i = 0; i < count && it != f.leaves.end(); ++i, ++it) {
        r.keys.push_back(it->first);
        r.values.push_back(it->second);
    }
    r.proof = f.prove({r.origin, r.keys.empty() ? r.origin : r.keys.back()});
    return r;
}

tl::expected<bool, ProofError> verify(const Fixture& f, const Range& r) {
    return verify_range_proof(f.root, r.origin, r.keys, r.values, r.proof);
}

TEST(RangeProof, ValidRanges) {
    std::mt19937_64 rng{4};
    for (std::size_t n : {1UL, 2UL, 5UL, 100UL, 3000UL}) {
        Fixture f{rng, n};
        for (int t = 0; t < 30; ++t) {
            const std::size_t first = rng() % n;
            const std::size_t count = 1 + rng() % std::min<std::size_t>(n - first, 200);
            const Range r = make_range(f, first, count, t % 2 == 1);
            auto got = verify(f, r);
            ASSERT_TRUE(got) << "n " << n << " first " << first << " count " << count << ": " << to_string(got.error());
            EXPECT_EQ(*got, first + count < n);
        }
        // The whole trie without a proof.
        Range all;
        for (const auto& [k, v] : f.leaves) {
            all.keys.push_back(k);
            all.values.push_back(v);
        }
        all.origin = Bytes(32, 0);
        auto got = verify(f, all);
        ASSERT_TRUE(got);
        EXPECT_FALSE(*got);
    }
}

TEST(RangeProof, EmptyRangeAfterLastKey) {
    std::mt19937_64 rng{5};
    Fixture f{rng, 200};
    Range r;
    r.origin = Bytes(32, 0xff);
    r.proof = f.prove({r.origin});
    auto got = verify(f, r);
    ASSERT_TRUE(got) << to_string(got.error());
    EXPECT_FALSE(*got);
    // An empty answer where keys do exist after the origin is a lie.
    r.origin = f.leaves.begin()->first;
    r.proof = f.prove({r.origin});
    EXPECT_FALSE(verify(f, r));
}

// go-ethereum TestBadRangeProof's corruptions, each must fail; plus a non-minimal proof.
TEST(RangeProof, RejectsEveryCorruption) {
    std::mt19937_64 rng{6};
    Fixture f{rng, 2000};
    int checked = 0;
    for (int t = 0; t < 200; ++t) {
        const std::size_t first = 1 + rng() % 1500;
        const std::size_t count = 3 + rng() % 300;
        const Range good = make_range(f, first, count, t % 2 == 1);
        ASSERT_TRUE(verify(f, good));
        Range bad = good;
        const std::size_t i = rng() % bad.keys.size();
        switch (t % 8) {
            case 0:  // modified key
                bad.keys[i] = random_bytes(rng, 32);
                break;
            case 1:  // modified value
                bad.values[i][0] ^= 0x01;
                break;
            case 2:  // removed middle entry
                if (bad.keys.size() < 3) continue;
                bad.keys.erase(bad.keys.begin() + 1);
                bad.values.erase(bad.values.begin() + 1);
                break;
            case 3:  // reordered
                std::swap(bad.keys[0], bad.keys[1]);
                std::swap(bad.values[0], bad.values[1]);
                break;
            case 4:  // gap at the left edge
                bad.keys.erase(bad.keys.begin());
                bad.values.erase(bad.values.begin());
                break;
            case 5:  // gap at the right edge
                bad.keys.pop_back();
                bad.values.pop_back();
                break;
            case 6: {  // an extra leaf inside the range
                Bytes extra = bad.keys[0];
                extra[31] ^= 0x01;
                if (f.leaves.count(extra) != 0 || extra < bad.keys[0]) continue;
                bad.keys.insert(bad.keys.begin() + 1, extra);
                bad.values.insert(bad.values.begin() + 1, Bytes{0x42});
                if (!(bad.keys[1] < bad.keys[2])) continue;
                break;
            }
            case 7: {  // non-minimal: a node off both edge paths
                auto far = f.trie.prove(std::prev(f.leaves.end())->first);
                for (const auto& n : *far) {
                    if (std::find(bad.proof.begin(), bad.proof.end(), n) == bad.proof.end()) {
                        bad.proof.push_back(n);
                        break;
                    }
                }
                if (bad.proof.size() == good.proof.size()) continue;
                break;
            }
        }
        auto got = verify(f, bad);
        EXPECT_FALSE(got) << "corruption " << t % 8 << " accepted";
        ++checked;
    }
    EXPECT_GT(checked, 150);
}

TEST(RangeProof, EveryProofByteMatters) {
    std::mt19937_64 rng{7};
    Fixture f{rng, 300};
    const Range good = make_range(f, 40, 30, true);
    ASSERT_TRUE(verify(f, good));
    for (std::size_t n = 0; n < good.proof.size(); ++n) {
        for (std::size_t b = 0; b < good.proof[n].size(); ++b) {
            Range bad = good;
            bad.proof[n][b] ^= 0x80;
            EXPECT_FALSE(verify(f, bad)) << "node " << n << " byte " << b;
        }
        Range dropped = good;
        dropped.proof.erase(dropped.proof.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_FALSE(verify(f, dropped)) << "dropped node " << n;
    }
}

TEST(RangeProof, RejectsMalformedInput) {
    std::mt19937_64 rng{8};
    Fixture f{rng, 100};
    Range r = make_range(f, 10, 10);
    Range bad = r;
    bad.values.pop_back();
    EXPECT_EQ(verify(f, bad).error(), ProofError::kLengthMismatch);
    bad = r;
    bad.keys[3].push_back(0);
    EXPECT_EQ(verify(f, bad).error(), ProofError::kBadKeyLength);
    bad = r;
    bad.values[3].clear();
    EXPECT_EQ(verify(f, bad).error(), ProofError::kEmptyValue);
    bad = r;
    bad.keys[0] = bad.keys[1];
    EXPECT_EQ(verify(f, bad).error(), ProofError::kKeysNotIncreasing);
    bad = r;
    bad.origin = bad.keys[1];
    EXPECT_EQ(verify(f, bad).error(), ProofError::kKeyOutOfRange);
    bad = r;
    bad.proof.push_back(bad.proof[0]);
    EXPECT_EQ(verify(f, bad).error(), ProofError::kDuplicateNode);
}

}  // namespace
}  // namespace carousel::trie

namespace carousel::trie {
namespace {

// A bounded range [origin, limit]: exact when whole, and a leaf left out anywhere in it (even after
// the last key returned) is caught.
TEST(BoundedRangeProof, ProvesWholePrefixChunks) {
    std::mt19937_64 rng{9};
    Fixture f{rng, 3000};
    for (int t = 0; t < 60; ++t) {
        // The chunk of keys starting with one random byte (a 2-nibble prefix).
        const uint8_t prefix = static_cast<uint8_t>(rng());
        Bytes origin(32, 0x00), limit(32, 0xff);
        origin[0] = limit[0] = prefix;
        std::vector<Bytes> keys, values;
        for (auto it = f.leaves.lower_bound(origin); it != f.leaves.end() && it->first <= limit; ++it) {
            keys.push_back(it->first);
            values.push_back(it->second);
        }
        const auto proof = f.prove({origin, limit});
        auto got = verify_bounded_range_proof(f.root, origin, limit, keys, values, proof);
        ASSERT_TRUE(got) << to_string(got.error());
        EXPECT_EQ(*got, f.leaves.upper_bound(limit) != f.leaves.end());  // more: a key beyond the limit
        if (!keys.empty()) {
            auto last_dropped = keys;
            auto last_values = values;
            last_dropped.pop_back();
            last_values.pop_back();
            EXPECT_FALSE(verify_bounded_range_proof(f.root, origin, limit, last_dropped, last_values, proof));
            // The unbounded verifier cannot see that loss: the reason for the bounded one.
            const auto short_proof = f.prove({origin, last_dropped.empty() ? origin : last_dropped.back()});
            if (!last_dropped.empty()) {
                EXPECT_TRUE(verify_range_proof(f.root, origin, last_dropped, last_values, short_proof));
            }
        }
    }
}

TEST(BoundedRangeProof, RejectsKeysPastTheLimit) {
    std::mt19937_64 rng{10};
    Fixture f{rng, 500};
    auto it = f.leaves.begin();
    std::advance(it, 100);
    const Bytes origin = it->first;
    std::vector<Bytes> keys, values;
    for (int i = 0; i < 5; ++i, ++it) {
        keys.push_back(it->first);
        values.push_back(it->second);
    }
    const Bytes limit = keys[3];
    const auto proof = f.prove({origin, limit});
    EXPECT_EQ(verify_bounded_range_proof(f.root, origin, limit, keys, values, proof).error(),
              ProofError::kKeyOutOfRange);
    keys.pop_back();
    values.pop_back();
    EXPECT_TRUE(verify_bounded_range_proof(f.root, origin, limit, keys, values, proof));
}

}  // namespace
}  // namespace carousel::trie

namespace carousel::trie {
namespace {

// A 32-byte key: the bytes of `hex`, then `fill` to the end.
Bytes key32(std::string_view hex, uint8_t fill = 0x00) {
    Bytes k = *from_hex(hex);
    k.resize(32, fill);
    return k;
}

// One answer to a range request, honest or not: bounded ([origin, limit]) when `limit` is set.
struct Answer {
    Bytes origin;
    std::optional<Bytes> limit;
    std::vector<Bytes> keys, values, proof;
};

tl::expected<bool, ProofError> verify(const Hash& root, const Answer& a) {
    if (a.limit) return verify_bounded_range_proof(root, a.origin, *a.limit, a.keys, a.values, a.proof);
    return verify_range_proof(root, a.origin, a.keys, a.values, a.proof);
}

// The proof an honest server sends for `a`: the paths to the origin and to the limit or last key.
std::vector<Bytes> prove_answer(Trie& trie, const Answer& a) {
    const Bytes ends[] = {a.origin, a.limit ? *a.limit : (a.keys.empty() ? a.origin : a.keys.back())};
    return *trie.prove(ends);
}

// A claimed key below a leaf or an extension on an edge path whose own key or path lies outside the
// range. The walk keeps such a node as one reference at its position; the key fell under it, and
// HashBuilder was handed a subtree and a leaf inside it (a segfault in Release; found by
// mgr/epoch_store_test.cpp, EpochStore.RangeVerifierSurvivesAFakeKeyInAnEmptyRange). Each answer
// is checked with both verifiers' shapes; the honest ones must still pass.
TEST(RangeProof, RejectsKeysUnderAnEdgeLeafOrExtension) {
    struct Case {
        const char* what;
        Bytes origin;
        std::optional<Bytes> limit;
        std::vector<std::pair<Bytes, Bytes>> leaves;
        std::optional<ProofError> error;  // nullopt: the answer is true and verifies
    };
    const Bytes fake_value{0x2a};
    for (std::size_t value_size : {1UL, 40UL}) {
        // Root branch; slot 2 holds one leaf (key 0x2911..), the rest lies elsewhere.
        const Bytes edge_leaf = key32("29", 0x11);
        const Bytes edge_value(value_size, 0x07);
        // Root branch; slot 2 holds the extension "01" to a branch of two leaves.
        const Bytes ext_a = key32("2010", 0x11), ext_b = key32("2011", 0x22);
        Trie leaf_trie, ext_trie;
        for (const Bytes& k : {edge_leaf, key32("50"), key32("51"), key32("a0")}) {
            ASSERT_TRUE(leaf_trie.put(k, k == edge_leaf ? edge_value : Bytes(value_size, 0x05)));
        }
        for (const Bytes& k : {ext_a, ext_b, key32("50"), key32("a0")}) ASSERT_TRUE(ext_trie.put(k, edge_value));
        Bytes fake = key32("20");  // 0x2000..005a: in [0x2000.., 0x23ff..], under slot 2
        fake[31] = 0x5a;
        const std::vector<Case> leaf_cases = {
            // The edge leaf's key lies right of the range.
            {"empty range", key32("20"), key32("23", 0xff), {}, std::nullopt},
            {"fake key in an empty range",
             key32("20"),
             key32("23", 0xff),
             {{fake, fake_value}},
             ProofError::kRootMismatch},
            {"fake key at the edge leaf's key past the limit",
             key32("20"),
             key32("23", 0xff),
             {{edge_leaf, edge_value}},
             ProofError::kKeyOutOfRange},
            {"unbounded fake key below the edge leaf",
             key32("20"),
             std::nullopt,
             {{fake, fake_value}},
             ProofError::kRootMismatch},
            {"unbounded: the edge leaf itself", key32("20"), std::nullopt, {{edge_leaf, edge_value}}, std::nullopt},
            {"unbounded: the edge leaf's key, another value",
             key32("20"),
             std::nullopt,
             {{edge_leaf, fake_value}},
             ProofError::kRootMismatch},
            {"unbounded: a fake key, then the edge leaf",
             key32("20"),
             std::nullopt,
             {{fake, fake_value}, {edge_leaf, edge_value}},
             ProofError::kRootMismatch},
            // The edge leaf's key lies left of the range.
            {"empty range right of the edge leaf", key32("2a"), key32("2f", 0xff), {}, std::nullopt},
            {"fake key right of the edge leaf",
             key32("2a"),
             key32("2f", 0xff),
             {{key32("2b"), fake_value}},
             ProofError::kRootMismatch},
            {"unbounded fake key right of the edge leaf",
             key32("2a"),
             std::nullopt,
             {{key32("2b"), fake_value}},
             ProofError::kRootMismatch},
            {"unbounded: the edge leaf's key below the origin",
             key32("2a"),
             std::nullopt,
             {{edge_leaf, edge_value}},
             ProofError::kKeyOutOfRange},
        };
        const std::vector<Case> ext_cases = {
            // The extension's path (0x201) lies left of the range.
            {"empty range right of the extension", key32("22"), key32("23", 0xff), {}, std::nullopt},
            {"fake key right of the extension",
             key32("22"),
             key32("23", 0xff),
             {{key32("2205"), fake_value}},
             ProofError::kRootMismatch},
            {"unbounded fake key right of the extension",
             key32("22"),
             std::nullopt,
             {{key32("2205"), fake_value}},
             ProofError::kRootMismatch},
            // ... and right of it.
            {"empty range left of the extension", key32("20"), key32("2005", 0xff), {}, std::nullopt},
            {"fake key left of the extension",
             key32("20"),
             key32("2005", 0xff),
             {{key32("2003"), fake_value}},
             ProofError::kRootMismatch},
            {"unbounded fake key left of the extension",
             key32("20"),
             std::nullopt,
             {{key32("2003"), fake_value}},
             ProofError::kRootMismatch},
            {"unbounded: the first key under the extension",
             key32("20"),
             std::nullopt,
             {{ext_a, edge_value}},
             std::nullopt},
            {"unbounded: a fake key, then the first key under the extension",
             key32("20"),
             std::nullopt,
             {{key32("2003"), fake_value}, {ext_a, edge_value}},
             ProofError::kRootMismatch},
        };
        for (auto [trie, cases] : {std::pair{&leaf_trie, &leaf_cases}, std::pair{&ext_trie, &ext_cases}}) {
            const Hash root = trie->root();
            for (const Case& c : *cases) {
                Answer a{c.origin, c.limit, {}, {}, {}};
                for (const auto& [k, v] : c.leaves) {
                    a.keys.push_back(k);
                    a.values.push_back(v);
                }
                a.proof = prove_answer(*trie, a);
                const auto got = verify(root, a);
                if (!c.error) {
                    EXPECT_TRUE(got) << c.what << ": " << to_string(got.error());
                    if (got) {
                        EXPECT_TRUE(*got) << c.what;  // keys follow in 0x50.. and 0xa0..
                    }
                } else {
                    ASSERT_FALSE(got) << c.what;
                    EXPECT_EQ(got.error(), *c.error) << c.what << ": " << to_string(got.error());
                }
            }
        }
    }
}

// Sets the nibbles of `key` from nibble `from` on to random ones.
Bytes randomize_from(std::mt19937_64& rng, Bytes key, std::size_t from) {
    for (std::size_t i = from; i < 64; ++i) {
        const auto nibble = static_cast<uint8_t>(rng() % 16);
        uint8_t& b = key[i / 2];
        b = i % 2 == 0 ? static_cast<uint8_t>((b & 0x0f) | (nibble << 4)) : static_cast<uint8_t>((b & 0xf0) | nibble);
    }
    return key;
}

// A key sharing a prefix with `base`: mostly a long one (the same leaf or extension on its path),
// sometimes any, sometimes `base` itself.
Bytes near(std::mt19937_64& rng, const Bytes& base) {
    return randomize_from(rng, base, rng() % 3 == 0 ? rng() % 65 : 56 + rng() % 9);
}

// A random trie of `n` leaves. Uniform keys, or keys grown from a few stems (each a stem with random
// nibbles from a random depth on): long shared paths make extensions and deep leaves, and with short
// values the nodes under 32 bytes are embedded in their parents.
struct RandomTrie {
    Trie trie;
    std::map<Bytes, Bytes> leaves;
    Hash root{};

    RandomTrie(std::mt19937_64& rng, std::size_t n, bool stems) {
        std::vector<Bytes> stem_keys;
        for (std::size_t i = 0; i < 1 + rng() % 3; ++i) stem_keys.push_back(random_bytes(rng, 32));
        while (leaves.size() < n) {
            const Bytes k = stems ? near(rng, stem_keys[rng() % stem_keys.size()]) : random_bytes(rng, 32);
            const Bytes v = random_bytes(rng, stems ? 1 + rng() % 3 : 1 + rng() % 40);
            EXPECT_TRUE(trie.put(k, v));
            leaves[k] = v;
        }
        root = trie.root();
    }

    Bytes some_key(std::mt19937_64& rng) const {
        auto it = leaves.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(rng() % leaves.size()));
        return it->first;
    }

    // An honest answer: for a bounded range every leaf in it; otherwise some leaves from the origin
    // on (none only when there are none), at times the whole trie without a proof.
    Answer answer(std::mt19937_64& rng, bool bounded) {
        Answer a;
        switch (rng() % 4) {
            case 0:
                a.origin = random_bytes(rng, 32);
                break;
            case 1:
                a.origin = some_key(rng);
                break;
            case 2:
                a.origin = near(rng, some_key(rng));
                break;
            default:
                a.origin = Bytes(32, 0x00);
                break;
        }
        if (bounded) {
            Bytes limit = rng() % 2 == 0 ? near(rng, a.origin) : near(rng, some_key(rng));
            if (limit < a.origin) std::swap(limit, a.origin);
            a.limit = limit;
        }
        const bool all = rng() % 4 == 0;
        const std::size_t count = 1 + rng() % 12;
        for (auto it = leaves.lower_bound(a.origin); it != leaves.end(); ++it) {
            if (a.limit ? it->first > *a.limit : (!all && a.keys.size() == count)) break;
            a.keys.push_back(it->first);
            a.values.push_back(it->second);
        }
        const bool whole = !bounded && a.origin == Bytes(32, 0x00) && a.keys.size() == leaves.size();
        if (!whole || rng() % 2 == 0) a.proof = prove_answer(trie, a);
        return a;
    }

    // Whether an accepted answer tells the truth: its leaves are exactly the trie's in its range
    // ([origin, limit], or [origin, last key], or all from the origin on when it has none), and
    // `more` says whether the trie holds keys past that range.
    ::testing::AssertionResult truthful(const Answer& a, bool more) const {
        std::vector<std::pair<Bytes, Bytes>> claimed, truth;
        for (std::size_t i = 0; i < a.keys.size(); ++i) claimed.emplace_back(a.keys[i], a.values[i]);
        const Bytes* right = a.limit ? &*a.limit : (a.keys.empty() ? nullptr : &a.keys.back());
        auto it = leaves.lower_bound(a.origin);
        for (; it != leaves.end() && (right == nullptr || it->first <= *right); ++it) truth.emplace_back(*it);
        if (claimed != truth) {
            return ::testing::AssertionFailure()
                   << "accepted " << claimed.size() << " leaves, the trie holds " << truth.size() << " in the range";
        }
        if (more != (it != leaves.end())) return ::testing::AssertionFailure() << "wrong 'more': " << more;
        return ::testing::AssertionSuccess();
    }
};

// Whether any node of `proof` embeds a child (a reference shorter than 32 bytes).
bool embeds_a_child(const std::vector<Bytes>& proof) {
    for (const Bytes& rlp : proof) {
        const auto node = decode_node(rlp);
        if (!node || node->kind == NodeKind::kLeaf) continue;
        for (ByteView c : node->children) {
            if (!c.empty() && c.size() < 32) return true;
        }
    }
    return false;
}

// Random tries and ranges: honest answers verify; random mutations of them never crash (run this
// under ASan/UBSan too) and are never accepted unless the leaves still are the trie's (truthful).
// A corrupted proof (node dropped, duplicated, a byte changed, grown or cut) is always rejected.
TEST(RangeProof, RandomMutationsNeverCrashNorLie) {
    const auto start = std::chrono::steady_clock::now();
    std::mt19937_64 rng{11};
    enum Mutation {
        kInsertKey,
        kEraseKey,
        kChangeValue,
        kChangeKey,
        kSwapKeys,
        kShuffleProof,
        kDropNode,
        kDuplicateNode,
        kFlipByte,
        kResizeNode,
        kMutations
    };
    std::size_t honest = 0, rejected = 0, accepted = 0, shuffled = 0, embedded = 0;
    for (int t = 0; t < 400; ++t) {
        const std::size_t sizes[] = {1, 2, 3, 5, 8, 20, 60, 300};
        RandomTrie rt{rng, sizes[rng() % std::size(sizes)], t % 2 == 1};
        for (int r = 0; r < 8; ++r) {
            const Answer good = rt.answer(rng, r % 2 == 1);
            const auto got = verify(rt.root, good);
            ASSERT_TRUE(got) << "honest answer: " << to_string(got.error());
            ASSERT_TRUE(rt.truthful(good, *got));
            ++honest;
            if (embeds_a_child(good.proof)) ++embedded;
            for (int m = 0; m < 24; ++m) {
                Answer bad = good;
                const auto mutation = static_cast<Mutation>(rng() % kMutations);
                const std::size_t i = bad.keys.empty() ? 0 : rng() % bad.keys.size();
                const std::size_t j = bad.proof.empty() ? 0 : rng() % bad.proof.size();
                bool corrupt_proof = false;
                switch (mutation) {
                    case kInsertKey: {  // near an edge, a key, or anywhere
                        const Bytes bases[] = {bad.origin, bad.limit.value_or(bad.origin),
                                               bad.keys.empty() ? bad.origin : bad.keys.back(), rt.some_key(rng),
                                               random_bytes(rng, 32)};
                        const Bytes k = near(rng, bases[rng() % std::size(bases)]);
                        const auto at = std::lower_bound(bad.keys.begin(), bad.keys.end(), k);
                        const auto pos = at - bad.keys.begin();
                        if (at != bad.keys.end() && *at == k) {
                            bad.values[static_cast<std::size_t>(pos)] = random_bytes(rng, 1 + rng() % 40);
                        } else {
                            bad.keys.insert(at, k);
                            bad.values.insert(bad.values.begin() + pos, random_bytes(rng, 1 + rng() % 40));
                        }
                        break;
                    }
                    case kEraseKey:
                        if (bad.keys.empty()) continue;
                        bad.keys.erase(bad.keys.begin() + static_cast<std::ptrdiff_t>(i));
                        bad.values.erase(bad.values.begin() + static_cast<std::ptrdiff_t>(i));
                        break;
                    case kChangeValue:
                        if (bad.keys.empty()) continue;
                        bad.values[i] = rng() % 2 == 0 ? random_bytes(rng, 1 + rng() % 40) : bad.values[i] + Bytes{0};
                        break;
                    case kChangeKey:
                        if (bad.keys.empty()) continue;
                        bad.keys[i] = near(rng, bad.keys[i]);
                        break;
                    case kSwapKeys:
                        if (bad.keys.size() < 2) continue;
                        std::swap(bad.keys[i], bad.keys[i + 1 == bad.keys.size() ? 0 : i + 1]);
                        break;
                    case kShuffleProof:  // a proof is a set: its order does not matter
                        std::shuffle(bad.proof.begin(), bad.proof.end(), rng);
                        break;
                    case kDropNode:
                        if (bad.proof.empty()) continue;
                        bad.proof.erase(bad.proof.begin() + static_cast<std::ptrdiff_t>(j));
                        corrupt_proof = !bad.proof.empty();  // with none left, a whole-trie answer
                        break;
                    case kDuplicateNode:
                        if (bad.proof.empty()) continue;
                        bad.proof.insert(bad.proof.begin() + static_cast<std::ptrdiff_t>(rng() % bad.proof.size()),
                                         bad.proof[j]);
                        corrupt_proof = true;
                        break;
                    case kFlipByte:
                        if (bad.proof.empty()) continue;
                        bad.proof[j][rng() % bad.proof[j].size()] ^= static_cast<uint8_t>(1 + rng() % 255);
                        corrupt_proof = true;
                        break;
                    case kResizeNode:
                        if (bad.proof.empty()) continue;
                        if (rng() % 2 == 0) {
                            bad.proof[j].push_back(static_cast<uint8_t>(rng()));
                        } else {
                            bad.proof[j].resize(rng() % bad.proof[j].size());
                        }
                        corrupt_proof = true;
                        break;
                    case kMutations:
                        break;
                }
                const auto res = verify(rt.root, bad);
                if (res) {
                    ++accepted;
                    if (mutation == kShuffleProof) ++shuffled;
                    EXPECT_FALSE(corrupt_proof) << "mutation " << mutation << " of the proof accepted";
                    EXPECT_TRUE(rt.truthful(bad, *res)) << "mutation " << mutation;
                } else {
                    ++rejected;
                    EXPECT_NE(mutation, kShuffleProof) << to_string(res.error());
                }
            }
        }
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    std::cout << "honest " << honest << " (embedding a child: " << embedded << "), mutants rejected " << rejected
              << ", accepted (truthful) " << accepted << " (proof shuffled: " << shuffled << "), " << ms << " ms\n";
    EXPECT_GT(embedded, 20U);
    EXPECT_GT(rejected, 10 * (accepted - shuffled));
}

}  // namespace
}  // namespace carousel::trie
