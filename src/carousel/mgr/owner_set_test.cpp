// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "owner_set.hpp"

#include <map>
#include <random>

#include <gtest/gtest.h>

namespace carousel::mgr {
namespace {

Hash key(uint64_t n) {
    Hash h{};
    for (int i = 0; i < 8; ++i) h[static_cast<std::size_t>(i)] = static_cast<uint8_t>(n >> (56 - 8 * i));
    return h;
}

std::vector<OwnerSet::Entry> all(const OwnerSet& s) {
    std::vector<OwnerSet::Entry> out;
    s.for_each([&](const Hash& a, const Hash& r) { out.emplace_back(a, r); });
    return out;
}

// Random sets, removals and compactions against a std::map; copies keep what they saw.
TEST(OwnerSet, MatchesAMapThroughChangesAndCompactions) {
    std::mt19937_64 rng{11};
    std::map<Hash, Hash> oracle;
    std::vector<OwnerSet::Entry> base;
    for (uint64_t i = 0; i < 200; i += 2) base.emplace_back(key(i), key(1000 + i));
    for (const auto& [a, r] : base) oracle[a] = r;
    OwnerSet set{base};
    for (int round = 0; round < 2000; ++round) {
        const Hash a = key(rng() % 260);
        if (rng() % 3 == 0) {
            set.set(a, trie::kEmptyRoot);
            oracle.erase(a);
        } else {
            const Hash r = key(5000 + rng() % 100000);
            set.set(a, r);
            oracle[a] = r;
        }
        if (round % 97 == 0) {
            const OwnerSet copy = set;
            const auto before = all(copy);
            set.compact();
            EXPECT_EQ(all(copy), before);  // a copy keeps its base
        }
        ASSERT_EQ(set.size(), oracle.size());
        const Hash probe = key(rng() % 260);
        const auto it = oracle.find(probe);
        EXPECT_EQ(set.find(probe), it == oracle.end() ? std::nullopt : std::optional<Hash>{it->second});
    }
    EXPECT_EQ(all(set), (std::vector<OwnerSet::Entry>{oracle.begin(), oracle.end()}));
    // list(from, max): the owners from the first account not below `from`, at most max.
    const Hash from = key(101);
    const auto listed = set.list(from, 7);
    std::vector<OwnerSet::Entry> want;
    for (auto it = oracle.lower_bound(from); it != oracle.end() && want.size() < 7; ++it) want.push_back(*it);
    EXPECT_EQ(listed, want);
}

TEST(OwnerSet, CopiesShareTheBaseUntilCompacted) {
    OwnerSet a{{{key(1), key(2)}, {key(3), key(4)}}};
    OwnerSet b = a;
    EXPECT_TRUE(a.shares_base(b));
    b.set(key(5), key(6));
    EXPECT_TRUE(a.shares_base(b));  // changes ride on top of the shared base
    EXPECT_EQ(a.size(), 2u);
    EXPECT_EQ(b.size(), 3u);
    b.compact();
    EXPECT_FALSE(a.shares_base(b));
    EXPECT_EQ(b.find(key(5)), key(6));
    EXPECT_EQ(a.find(key(5)), std::nullopt);
    EXPECT_GT(b.heap_bytes(), b.heap_bytes(false));
}

}  // namespace
}  // namespace carousel::mgr
