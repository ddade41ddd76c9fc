// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Proof verification by mutation, after go-ethereum's trie/proof_test.go (TestBadRangeProof and
// friends), plus the non-minimal proofs go-ethereum accepts and carousel rejects.
#include <map>
#include <random>

#include <gtest/gtest.h>

#include <carousel/core/keccak.hpp>
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
