// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// The KV behaviour suite, run against every implementation (typed tests), plus WriteBatch, Status
// and KeyRange on their own.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/store/kv.hpp>
#include <carousel/store/memory_kv.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/testing/temp_dir.hpp>

namespace carousel::store {
namespace {

// ---- implementations under test -----------------------------------------------------------------

struct MemoryBackend {
    static constexpr const char* kName = "MemoryKV";
    std::unique_ptr<KV> make() { return std::make_unique<MemoryKV>(); }
};

struct RocksBackend {
    static constexpr const char* kName = "RocksKV";
    TempDir dir{"carousel-kv-test-"};
    std::unique_ptr<KV> make() {
        RocksKV::Options options;
        options.block_cache_bytes = 8 << 20;
        options.write_buffer_bytes = 1 << 20;
        std::unique_ptr<RocksKV> kv;
        const Status s = RocksKV::open(dir.path() / "db", options, kv);
        EXPECT_TRUE(s.ok()) << s.to_string();
        return kv;
    }
};

template <class Backend>
class KVTest : public ::testing::Test {
  protected:
    void SetUp() override {
        kv_ = backend_.make();
        ASSERT_NE(kv_, nullptr);
    }

    // The value of `key`, "<absent>" if not found, "<error: ...>" on an error.
    std::string get(Column column, ByteView key) {
        Bytes value;
        const Status s = kv_->get(column, key, value);
        if (s.is_not_found()) return "<absent>";
        if (!s.ok()) return "<error: " + s.to_string() + ">";
        return std::string{value.begin(), value.end()};
    }
    std::string get(Column column, std::string_view key) { return get(column, view(key)); }

    void put(Column column, std::string_view key, std::string_view value) {
        ASSERT_TRUE(kv_->put(column, view(key), view(value)).ok());
    }

    // Keys of a full forward walk of the iterator, as strings.
    static std::vector<std::string> keys(Iterator& it) {
        std::vector<std::string> out;
        for (it.seek_to_first(); it.valid(); it.next()) out.emplace_back(it.key().begin(), it.key().end());
        EXPECT_TRUE(it.status().ok());
        return out;
    }
    static std::vector<std::string> keys_backward(Iterator& it) {
        std::vector<std::string> out;
        for (it.seek_to_last(); it.valid(); it.prev()) out.emplace_back(it.key().begin(), it.key().end());
        EXPECT_TRUE(it.status().ok());
        return out;
    }
    std::vector<std::string> keys(Column column, KeyRange range = {}) {
        auto it = kv_->new_iterator(column, std::move(range));
        return keys(*it);
    }

    Backend backend_;
    std::unique_ptr<KV> kv_;
};

struct BackendNames {
    template <class T>
    static std::string GetName(int /*index*/) {  // NOLINT(readability-identifier-naming): GoogleTest's name
        return T::kName;
    }
};

using Backends = ::testing::Types<MemoryBackend, RocksBackend>;
TYPED_TEST_SUITE(KVTest, Backends, BackendNames);

using Strings = std::vector<std::string>;

// Fixed seeds: a failure reproduces.
std::mt19937_64 seeded_rng(uint64_t seed) { return std::mt19937_64(seed); }

std::string str(ByteView b) { return {b.begin(), b.end()}; }
Bytes bytes(std::string_view s) { return to_bytes(s); }

// ---- point operations ---------------------------------------------------------------------------

TYPED_TEST(KVTest, GetOfMissingKeyIsNotFound) {
    Bytes value;
    const Status s = this->kv_->get(Column::kTrieNodes, view("nope"), value);
    EXPECT_TRUE(s.is_not_found());
    EXPECT_FALSE(s.ok());
    EXPECT_TRUE(s.message().empty());
}

TYPED_TEST(KVTest, PutThenGet) {
    this->put(Column::kTrieNodes, "key", "value");
    EXPECT_EQ(this->get(Column::kTrieNodes, "key"), "value");
}

TYPED_TEST(KVTest, PutOverwrites) {
    this->put(Column::kAccountLeaves, "k", "first, and longer");
    this->put(Column::kAccountLeaves, "k", "second");
    EXPECT_EQ(this->get(Column::kAccountLeaves, "k"), "second");
}

TYPED_TEST(KVTest, GetReplacesTheOutputBuffer) {
    this->put(Column::kCode, "k", "abc");
    Bytes value = bytes("old contents that are longer");
    ASSERT_TRUE(this->kv_->get(Column::kCode, view("k"), value).ok());
    EXPECT_EQ(str(value), "abc");
}

TYPED_TEST(KVTest, DeleteRemovesKey) {
    this->put(Column::kMeta, "k", "v");
    ASSERT_TRUE(this->kv_->del(Column::kMeta, view("k")).ok());
    EXPECT_EQ(this->get(Column::kMeta, "k"), "<absent>");
}

TYPED_TEST(KVTest, DeleteOfMissingKeyIsOk) { EXPECT_TRUE(this->kv_->del(Column::kMeta, view("missing")).ok()); }

TYPED_TEST(KVTest, EmptyKeyAndEmptyValue) {
    this->put(Column::kMeta, "", "empty key");
    this->put(Column::kMeta, "empty value", "");
    EXPECT_EQ(this->get(Column::kMeta, ""), "empty key");
    EXPECT_EQ(this->get(Column::kMeta, "empty value"), "");
    EXPECT_EQ(this->keys(Column::kMeta), (Strings{"", "empty value"}));
}

TYPED_TEST(KVTest, BinaryKeysAndValuesRoundTrip) {
    const Bytes key = "00ff0080007f"_hex;
    Bytes value(300, 0);
    for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<uint8_t>(i);
    ASSERT_TRUE(this->kv_->put(Column::kStorageLeaves, key, value).ok());
    Bytes out;
    ASSERT_TRUE(this->kv_->get(Column::kStorageLeaves, key, out).ok());
    EXPECT_EQ(out, value);
    // A key that differs only after an embedded zero byte is another key.
    EXPECT_TRUE(this->kv_->get(Column::kStorageLeaves, "00ff0080007e"_hex, out).is_not_found());
}

// ---- columns ------------------------------------------------------------------------------------

TYPED_TEST(KVTest, ColumnsAreSeparateKeySpaces) {
    for (Column c : kAllColumns) this->put(c, "same key", std::string{to_string(c)});
    for (Column c : kAllColumns) {
        EXPECT_EQ(this->get(c, "same key"), to_string(c));
        EXPECT_EQ(this->keys(c), (Strings{"same key"}));
    }
    ASSERT_TRUE(this->kv_->del(Column::kCode, view("same key")).ok());
    EXPECT_EQ(this->get(Column::kCode, "same key"), "<absent>");
    EXPECT_EQ(this->get(Column::kTrieNodes, "same key"), "trie_nodes");
}

TYPED_TEST(KVTest, DeleteRangeStaysInItsColumn) {
    this->put(Column::kStorageLeaves, "b", "1");
    this->put(Column::kAccountLeaves, "b", "2");
    WriteBatch batch;
    batch.del_range(Column::kStorageLeaves, view("a"), view("z"));
    ASSERT_TRUE(this->kv_->write(batch).ok());
    EXPECT_EQ(this->get(Column::kStorageLeaves, "b"), "<absent>");
    EXPECT_EQ(this->get(Column::kAccountLeaves, "b"), "2");
}

// ---- batches ------------------------------------------------------------------------------------

TYPED_TEST(KVTest, BatchAppliesEverything) {
    WriteBatch batch;
    batch.put(Column::kTrieNodes, view("node"), view("rlp"));
    batch.put(Column::kAccountLeaves, view("acct"), view("leaf"));
    batch.put(Column::kCode, view("hash"), view("code"));
    batch.put(Column::kMeta, view("head"), view("7"));
    ASSERT_TRUE(this->kv_->write(batch, WriteOptions{.sync = true}).ok());
    EXPECT_EQ(this->get(Column::kTrieNodes, "node"), "rlp");
    EXPECT_EQ(this->get(Column::kAccountLeaves, "acct"), "leaf");
    EXPECT_EQ(this->get(Column::kCode, "hash"), "code");
    EXPECT_EQ(this->get(Column::kMeta, "head"), "7");
}

TYPED_TEST(KVTest, BatchAppliesInOrderLaterWins) {
    this->put(Column::kMeta, "deleted then put", "old");
    WriteBatch batch;
    batch.put(Column::kMeta, view("put twice"), view("1"));
    batch.put(Column::kMeta, view("put twice"), view("2"));
    batch.put(Column::kMeta, view("put then deleted"), view("x"));
    batch.del(Column::kMeta, view("put then deleted"));
    batch.del(Column::kMeta, view("deleted then put"));
    batch.put(Column::kMeta, view("deleted then put"), view("new"));
    batch.put(Column::kMeta, view("range-a"), view("x"));
    batch.del_range(Column::kMeta, view("range-"), view("range-z"));
    batch.put(Column::kMeta, view("range-b"), view("after the range delete"));
    ASSERT_TRUE(this->kv_->write(batch).ok());
    EXPECT_EQ(this->get(Column::kMeta, "put twice"), "2");
    EXPECT_EQ(this->get(Column::kMeta, "put then deleted"), "<absent>");
    EXPECT_EQ(this->get(Column::kMeta, "deleted then put"), "new");
    EXPECT_EQ(this->get(Column::kMeta, "range-a"), "<absent>");
    EXPECT_EQ(this->get(Column::kMeta, "range-b"), "after the range delete");
}

TYPED_TEST(KVTest, EmptyBatchIsOk) { EXPECT_TRUE(this->kv_->write(WriteBatch{}).ok()); }

// ---- sorted bulk puts ---------------------------------------------------------------------------

TYPED_TEST(KVTest, PutSortedWritesEveryKeyOverOlderValues) {
    this->put(Column::kTrieNodes, "k-005", "old");
    this->put(Column::kTrieNodes, "k-100", "outside");
    std::vector<std::string> names;
    for (int i = 0; i < 50; ++i) names.push_back("k-" + std::string(i < 10 ? "00" : "0") + std::to_string(i));
    std::vector<ByteView> keys;
    std::vector<ByteView> values;
    for (const auto& n : names) {
        keys.push_back(view(n));
        values.push_back(view(n));  // the key is its own value
    }
    ASSERT_TRUE(this->kv_->put_sorted(Column::kTrieNodes, keys, values).ok());
    for (const auto& n : names) EXPECT_EQ(this->get(Column::kTrieNodes, n), n);
    EXPECT_EQ(this->get(Column::kTrieNodes, "k-100"), "outside");
    EXPECT_EQ(this->keys(Column::kTrieNodes).size(), 51U);
    EXPECT_EQ(this->get(Column::kMeta, "k-000"), "<absent>");  // its column only
    EXPECT_TRUE(this->kv_->put_sorted(Column::kTrieNodes, {}, {}).ok());
}

TYPED_TEST(KVTest, PutSortedRefusesKeysOutOfOrderAndWritesNothing) {
    const std::array<ByteView, 3> unsorted{view("a"), view("c"), view("b")};
    const std::array<ByteView, 3> repeated{view("a"), view("b"), view("b")};
    const std::array<ByteView, 3> values{view("1"), view("2"), view("3")};
    EXPECT_TRUE(this->kv_->put_sorted(Column::kTrieNodes, unsorted, values).is_invalid_argument());
    EXPECT_TRUE(this->kv_->put_sorted(Column::kTrieNodes, repeated, values).is_invalid_argument());
    EXPECT_TRUE(this->kv_->put_sorted(Column::kTrieNodes, std::span{unsorted}.first(2), values).is_invalid_argument());
    EXPECT_TRUE(this->keys(Column::kTrieNodes).empty());
}

TYPED_TEST(KVTest, DeleteRangeIsHalfOpen) {
    for (const char* k : {"a", "b", "ba", "c", "d"}) this->put(Column::kStorageLeaves, k, "v");
    WriteBatch batch;
    batch.del_range(Column::kStorageLeaves, view("b"), view("d"));
    ASSERT_TRUE(this->kv_->write(batch).ok());
    EXPECT_EQ(this->keys(Column::kStorageLeaves), (Strings{"a", "d"}));
}

TYPED_TEST(KVTest, DeleteRangeWithBeginNotBelowEndDoesNothing) {
    for (const char* k : {"a", "b", "c"}) this->put(Column::kStorageLeaves, k, "v");
    WriteBatch batch;
    batch.del_range(Column::kStorageLeaves, view("c"), view("a"));
    batch.del_range(Column::kStorageLeaves, view("b"), view("b"));
    ASSERT_TRUE(this->kv_->write(batch).ok());
    EXPECT_EQ(this->keys(Column::kStorageLeaves), (Strings{"a", "b", "c"}));
}

TYPED_TEST(KVTest, DeleteRangeOfOnePrefix) {
    // One account's storage leaves go, its neighbours' stay: keys are account ++ slot.
    const Bytes a1 = "01ff"_hex, a2 = "02"_hex, a0 = "01fe"_hex;
    for (const Bytes& account : {a0, a1, a2}) {
        for (uint8_t slot : {0x00, 0x80, 0xff}) {
            Bytes key = account;
            key.push_back(slot);
            ASSERT_TRUE(this->kv_->put(Column::kStorageLeaves, key, view("v")).ok());
        }
    }
    const KeyRange range = KeyRange::with_prefix(a1);
    ASSERT_TRUE(range.upper.has_value());
    WriteBatch batch;
    batch.del_range(Column::kStorageLeaves, range.lower, *range.upper);
    ASSERT_TRUE(this->kv_->write(batch).ok());
    std::vector<std::string> left;
    auto it = this->kv_->new_iterator(Column::kStorageLeaves);
    for (it->seek_to_first(); it->valid(); it->next()) left.push_back(to_hex(it->key()));
    EXPECT_EQ(left, (Strings{"01fe00", "01fe80", "01feff", "0200", "0280", "02ff"}));
}

// Readers never see part of a batch: a writer keeps two keys (in two columns) and a key range equal
// while readers check them, through snapshot iterators and point reads.
TYPED_TEST(KVTest, ConcurrentReadersNeverSeePartOfABatch) {
    constexpr int kBatches = 300;
    auto encode = [](int i) { return std::to_string(1000000 + i); };
    {
        WriteBatch batch;
        batch.put(Column::kMeta, view("a"), view(encode(0)));
        batch.put(Column::kMeta, view("b"), view(encode(0)));
        ASSERT_TRUE(this->kv_->write(batch).ok());
    }
    std::atomic<bool> done{false};
    std::atomic<int> torn{0};
    std::atomic<int> reads{0};
    auto reader = [&] {
        std::string last = encode(0);
        while (!done.load()) {
            auto it = this->kv_->new_iterator(Column::kMeta);
            it->seek(view("a"));
            if (!it->valid()) {
                ++torn;
                continue;
            }
            const std::string a = str(it->value());
            it->next();
            const std::string b = it->valid() ? str(it->value()) : "<none>";
            // Every batch also rewrites the range "r/..." wholesale: count its keys in the snapshot.
            auto rit = this->kv_->new_iterator(Column::kMeta, KeyRange::with_prefix(view("r/")));
            int n = 0;
            for (rit->seek_to_first(); rit->valid(); rit->next()) ++n;
            if (a != b || (n != 0 && n != 10)) ++torn;
            // Point reads are each atomic and move forward.
            Bytes v;
            if (!this->kv_->get(Column::kMeta, view("a"), v).ok() || str(v) < last) ++torn;
            last = str(v);
            ++reads;
        }
    };
    std::thread r1{reader}, r2{reader};
    // At least kBatches batches, and on until the readers have done some reads while they ran.
    for (int i = 1; i < 1000000 && (i <= kBatches || reads.load() < 200); ++i) {
        WriteBatch batch;
        batch.put(Column::kMeta, view("a"), view(encode(i)));
        batch.del_range(Column::kMeta, view("r/"), view("r0"));
        for (int j = 0; j < 10; ++j) batch.put(Column::kMeta, view("r/" + std::to_string(j)), view(encode(i)));
        batch.put(Column::kMeta, view("b"), view(encode(i)));
        const Status s = this->kv_->write(batch);
        if (!s.ok()) {
            ADD_FAILURE() << s.to_string();
            break;
        }
    }
    done = true;
    r1.join();
    r2.join();
    EXPECT_EQ(torn.load(), 0);
    EXPECT_GE(reads.load(), 200);
}

// ---- iteration ----------------------------------------------------------------------------------

TYPED_TEST(KVTest, IterationIsInUnsignedByteOrder) {
    // Shorter first on a common prefix; 0x80 and 0xff after 0x7f (unsigned bytes).
    const std::vector<Bytes> in{"ff"_hex, "80"_hex, "7f"_hex, "00"_hex, ""_hex, "0000"_hex, "7fff"_hex, "8000"_hex};
    for (const Bytes& k : in) ASSERT_TRUE(this->kv_->put(Column::kTrieNodes, k, k).ok());
    std::vector<std::string> got;
    auto it = this->kv_->new_iterator(Column::kTrieNodes);
    for (it->seek_to_first(); it->valid(); it->next()) {
        got.push_back(to_hex(it->key()));
        EXPECT_EQ(it->key(), it->value());
    }
    EXPECT_EQ(got, (Strings{"", "00", "0000", "7f", "7fff", "80", "8000", "ff"}));
}

TYPED_TEST(KVTest, IterationMatchesASortedMap) {
    std::mt19937_64 rng = seeded_rng(42);
    std::map<Bytes, Bytes> model;
    WriteBatch batch;
    for (int i = 0; i < 2000; ++i) {
        Bytes key(1 + rng() % 40, 0);
        for (auto& b : key) b = static_cast<uint8_t>(rng() % 4 == 0 ? 0xff : rng());
        Bytes value(rng() % 120, static_cast<uint8_t>(i));
        model[key] = value;
        batch.put(Column::kAccountLeaves, key, value);
        if (i % 7 == 0) {
            const Bytes victim = model.begin()->first;
            model.erase(model.begin());
            batch.del(Column::kAccountLeaves, victim);
        }
    }
    ASSERT_TRUE(this->kv_->write(batch).ok());

    auto it = this->kv_->new_iterator(Column::kAccountLeaves);
    auto m = model.begin();
    for (it->seek_to_first(); it->valid(); it->next(), ++m) {
        ASSERT_NE(m, model.end());
        ASSERT_EQ(it->key(), ByteView{m->first});
        ASSERT_EQ(it->value(), ByteView{m->second});
    }
    EXPECT_EQ(m, model.end());
    EXPECT_TRUE(it->status().ok());

    // Backward, too.
    auto r = model.rbegin();
    for (it->seek_to_last(); it->valid(); it->prev(), ++r) {
        ASSERT_NE(r, model.rend());
        ASSERT_EQ(it->key(), ByteView{r->first});
    }
    EXPECT_EQ(r, model.rend());

    // Random seeks land where std::map's lower_bound and upper_bound say.
    for (int i = 0; i < 300; ++i) {
        Bytes target(rng() % 6, 0);
        for (auto& b : target) b = static_cast<uint8_t>(rng());
        it->seek(target);
        auto lb = model.lower_bound(target);
        ASSERT_EQ(it->valid(), lb != model.end());
        if (it->valid()) {
            ASSERT_EQ(it->key(), ByteView{lb->first});
        }

        it->seek_for_prev(target);
        auto ub = model.upper_bound(target);
        ASSERT_EQ(it->valid(), ub != model.begin());
        if (it->valid()) {
            ASSERT_EQ(it->key(), ByteView{std::prev(ub)->first});
        }
    }
}

TYPED_TEST(KVTest, EmptyColumnIteratorIsNeverValid) {
    auto it = this->kv_->new_iterator(Column::kBlocks);
    it->seek_to_first();
    EXPECT_FALSE(it->valid());
    it->seek_to_last();
    EXPECT_FALSE(it->valid());
    it->seek(view("x"));
    EXPECT_FALSE(it->valid());
    it->seek_for_prev(view("x"));
    EXPECT_FALSE(it->valid());
    EXPECT_TRUE(it->status().ok());
}

class RangeFixture {
  public:
    static constexpr const char* kKeys[] = {"a", "b", "ba", "bb", "c", "ca", "d"};
};

TYPED_TEST(KVTest, IterationStaysWithinBounds) {
    for (const char* k : RangeFixture::kKeys) this->put(Column::kStorageLeaves, k, k);
    const KeyRange range{bytes("b"), bytes("c")};  // [b, c)
    auto it = this->kv_->new_iterator(Column::kStorageLeaves, range);
    EXPECT_EQ(this->keys(*it), (Strings{"b", "ba", "bb"}));
    EXPECT_EQ(this->keys_backward(*it), (Strings{"bb", "ba", "b"}));

    it->seek(view("a"));  // below the range: its first entry
    ASSERT_TRUE(it->valid());
    EXPECT_EQ(str(it->key()), "b");
    it->seek(view("b0"));
    ASSERT_TRUE(it->valid());
    EXPECT_EQ(str(it->key()), "ba");
    it->seek(view("bc"));  // past the last entry of the range, before its end
    EXPECT_FALSE(it->valid());
    it->seek(view("c"));  // the exclusive upper bound itself
    EXPECT_FALSE(it->valid());
    it->seek(view("zz"));
    EXPECT_FALSE(it->valid());

    it->seek_for_prev(view("z"));  // above the range: its last entry
    ASSERT_TRUE(it->valid());
    EXPECT_EQ(str(it->key()), "bb");
    it->seek_for_prev(view("c"));
    ASSERT_TRUE(it->valid());
    EXPECT_EQ(str(it->key()), "bb");
    it->seek_for_prev(view("ba"));  // exact match
    ASSERT_TRUE(it->valid());
    EXPECT_EQ(str(it->key()), "ba");
    it->seek_for_prev(view("a"));  // below the range
    EXPECT_FALSE(it->valid());

    // Walking off either end ends the iteration.
    it->seek(view("bb"));
    ASSERT_TRUE(it->valid());
    it->next();
    EXPECT_FALSE(it->valid());
    it->seek(view("b"));
    ASSERT_TRUE(it->valid());
    it->prev();
    EXPECT_FALSE(it->valid());
    EXPECT_TRUE(it->status().ok());
}

TYPED_TEST(KVTest, IterationWithOneBound) {
    for (const char* k : RangeFixture::kKeys) this->put(Column::kStorageLeaves, k, k);
    EXPECT_EQ(this->keys(Column::kStorageLeaves, KeyRange{bytes("c"), std::nullopt}), (Strings{"c", "ca", "d"}));
    EXPECT_EQ(this->keys(Column::kStorageLeaves, KeyRange{{}, bytes("b")}), (Strings{"a"}));
    auto it = this->kv_->new_iterator(Column::kStorageLeaves, KeyRange{{}, bytes("ba")});
    EXPECT_EQ(this->keys_backward(*it), (Strings{"b", "a"}));
}

TYPED_TEST(KVTest, EmptyAndInvertedRangesHaveNoEntries) {
    for (const char* k : RangeFixture::kKeys) this->put(Column::kStorageLeaves, k, k);
    for (const KeyRange& range :
         {KeyRange{bytes("b"), bytes("b")}, KeyRange{bytes("c"), bytes("b")}, KeyRange{bytes("bc"), bytes("c")}}) {
        auto it = this->kv_->new_iterator(Column::kStorageLeaves, range);
        EXPECT_EQ(this->keys(*it), Strings{});
        EXPECT_EQ(this->keys_backward(*it), Strings{});
        it->seek(view("b"));
        EXPECT_FALSE(it->valid());
        it->seek_for_prev(view("bz"));
        EXPECT_FALSE(it->valid());
    }
}

TYPED_TEST(KVTest, PrefixRangeStreamsOneAccountsStorage) {
    // Storage leaf keys are account hash ++ slot hash; a prefix range is one account's storage.
    const Bytes before = "11ff"_hex, account = "12ff"_hex, after = "1300"_hex;
    for (const Bytes& a : {before, account, after}) {
        for (const Bytes& slot : {"00"_hex, "7f"_hex, "ff"_hex, "ffff"_hex}) {
            ASSERT_TRUE(this->kv_->put(Column::kStorageLeaves, a + slot, slot).ok());
        }
    }
    auto it = this->kv_->new_iterator(Column::kStorageLeaves, KeyRange::with_prefix(account));
    std::vector<std::string> got;
    for (it->seek_to_first(); it->valid(); it->next()) got.push_back(to_hex(it->key()));
    EXPECT_EQ(got, (Strings{"12ff00", "12ff7f", "12ffff", "12ffffff"}));
}

TYPED_TEST(KVTest, IteratorSeesASnapshot) {
    this->put(Column::kAccountLeaves, "a", "1");
    this->put(Column::kAccountLeaves, "b", "1");
    this->put(Column::kAccountLeaves, "c", "1");
    auto it = this->kv_->new_iterator(Column::kAccountLeaves);

    // Writes after the iterator was made, including ones that remove the entry it stands on.
    it->seek(view("b"));
    ASSERT_TRUE(it->valid());
    WriteBatch batch;
    batch.del(Column::kAccountLeaves, view("b"));
    batch.put(Column::kAccountLeaves, view("a"), view("2"));
    batch.put(Column::kAccountLeaves, view("bb"), view("2"));
    batch.del_range(Column::kAccountLeaves, view("c"), view("d"));
    ASSERT_TRUE(this->kv_->write(batch).ok());

    EXPECT_EQ(str(it->key()), "b");
    EXPECT_EQ(str(it->value()), "1");
    it->next();
    ASSERT_TRUE(it->valid());
    EXPECT_EQ(str(it->key()), "c");
    std::vector<std::string> old;
    for (it->seek_to_first(); it->valid(); it->next()) old.push_back(str(it->key()) + "=" + str(it->value()));
    EXPECT_EQ(old, (Strings{"a=1", "b=1", "c=1"}));

    std::vector<std::string> now;
    auto fresh = this->kv_->new_iterator(Column::kAccountLeaves);
    for (fresh->seek_to_first(); fresh->valid(); fresh->next()) {
        now.push_back(str(fresh->key()) + "=" + str(fresh->value()));
    }
    EXPECT_EQ(now, (Strings{"a=2", "bb=2"}));
}

TYPED_TEST(KVTest, ManyIteratorsAndWritesInterleaved) {
    // Iterators created between writes each see the column as it was then.
    std::vector<std::unique_ptr<Iterator>> its;
    for (int i = 0; i < 20; ++i) {
        its.push_back(this->kv_->new_iterator(Column::kTrieNodes));
        // (Not "k" + std::to_string(...): g++ 12 warns falsely on it at -O3, GCC PR 105329.)
        const std::string key = std::to_string(100 + i);
        this->put(Column::kTrieNodes, key, "v");
    }
    for (std::size_t i = 0; i < its.size(); ++i) {
        std::size_t n = 0;
        for (its[i]->seek_to_first(); its[i]->valid(); its[i]->next()) ++n;
        EXPECT_EQ(n, i);
    }
}

// ---- WriteBatch, KeyRange, Status ---------------------------------------------------------------

// Records a batch's operations as text.
class Recorder final : public WriteBatch::Handler {
  public:
    void put(Column c, ByteView k, ByteView v) override {
        ops.push_back("put " + std::string{to_string(c)} + " " + to_hex(k) + " " + to_hex(v));
    }
    void del(Column c, ByteView k) override { ops.push_back("del " + std::string{to_string(c)} + " " + to_hex(k)); }
    void del_range(Column c, ByteView b, ByteView e) override {
        ops.push_back("del_range " + std::string{to_string(c)} + " " + to_hex(b) + " " + to_hex(e));
    }
    std::vector<std::string> ops;
};

TEST(WriteBatch, ReplaysOperationsInOrder) {
    WriteBatch batch;
    EXPECT_TRUE(batch.empty());
    batch.put(Column::kTrieNodes, "aa"_hex, "bb"_hex);
    batch.del(Column::kCode, "cc"_hex);
    batch.del_range(Column::kStorageLeaves, "00"_hex, "ff"_hex);
    batch.put(Column::kMeta, {}, {});
    const Bytes big(200, 0x42);  // lengths above 127 take two varint bytes
    batch.put(Column::kBlocks, big, big);
    EXPECT_EQ(batch.count(), 5u);
    EXPECT_FALSE(batch.empty());
    EXPECT_GT(batch.byte_size(), 400u);

    Recorder r;
    batch.iterate(r);
    ASSERT_EQ(r.ops.size(), 5u);
    EXPECT_EQ(r.ops[0], "put trie_nodes aa bb");
    EXPECT_EQ(r.ops[1], "del code cc");
    EXPECT_EQ(r.ops[2], "del_range storage_leaves 00 ff");
    EXPECT_EQ(r.ops[3], "put meta  ");
    EXPECT_EQ(r.ops[4], "put blocks " + to_hex(big) + " " + to_hex(big));
}

TEST(WriteBatch, AppendAndClear) {
    WriteBatch a, b;
    a.put(Column::kMeta, "01"_hex, "02"_hex);
    b.del(Column::kMeta, "01"_hex);
    a.append(b);
    EXPECT_EQ(a.count(), 2u);
    Recorder r;
    a.iterate(r);
    EXPECT_EQ(r.ops, (Strings{"put meta 01 02", "del meta 01"}));
    a.clear();
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(a.byte_size(), 0u);
    Recorder none;
    a.iterate(none);
    EXPECT_TRUE(none.ops.empty());
}

TEST(WriteBatch, CopiesItsArguments) {
    WriteBatch batch;
    {
        Bytes key = "0102"_hex, value = "0304"_hex;
        batch.put(Column::kMeta, key, value);
        key[0] = 0xee;
        value[0] = 0xee;
    }
    Recorder r;
    batch.iterate(r);
    EXPECT_EQ(r.ops, (Strings{"put meta 0102 0304"}));
}

TEST(KeyRange, PrefixSuccessor) {
    EXPECT_EQ(prefix_successor("01"_hex), "02"_hex);
    EXPECT_EQ(prefix_successor("01ff"_hex), "02"_hex);
    EXPECT_EQ(prefix_successor("00ffff"_hex), "01"_hex);
    EXPECT_EQ(prefix_successor("12fe"_hex), "12ff"_hex);
    EXPECT_EQ(prefix_successor("ffff"_hex), std::nullopt);
    EXPECT_EQ(prefix_successor(""_hex), std::nullopt);
}

TEST(KeyRange, Contains) {
    const KeyRange r{"10"_hex, "20"_hex};
    EXPECT_FALSE(r.contains("0fff"_hex));
    EXPECT_TRUE(r.contains("10"_hex));
    EXPECT_TRUE(r.contains("1fffff"_hex));
    EXPECT_FALSE(r.contains("20"_hex));
    EXPECT_TRUE(KeyRange::all().contains(""_hex));
    EXPECT_TRUE(KeyRange::with_prefix("ffff"_hex).contains("ffffff"_hex));
    EXPECT_FALSE(KeyRange::with_prefix("ffff"_hex).contains("fffe"_hex));
}

TEST(Column, NamesAreDistinct) {
    std::vector<std::string_view> names;
    names.reserve(kNumColumns);
    for (Column c : kAllColumns) names.push_back(to_string(c));
    std::sort(names.begin(), names.end());
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
    EXPECT_EQ(to_string(Column::kTrieNodes), "trie_nodes");
    EXPECT_EQ(to_string(Column::kStorageLeaves), "storage_leaves");
}

}  // namespace
}  // namespace carousel::store

namespace carousel::store {
namespace {

TEST(RocksKVReadOnly, SeveralReadersShareADatabaseAndCannotWrite) {
    TempDir dir;
    {
        std::unique_ptr<RocksKV> kv;
        ASSERT_TRUE(RocksKV::open(dir.path(), kv).ok());
        WriteBatch b;
        b.put(Column::kMeta, view("k"), view("v"));
        ASSERT_TRUE(kv->write(b).ok());
    }
    RocksKV::Options ro;
    ro.read_only = true;
    std::unique_ptr<RocksKV> a, b;
    ASSERT_TRUE(RocksKV::open(dir.path(), ro, a).ok());
    ASSERT_TRUE(RocksKV::open(dir.path(), ro, b).ok());
    Bytes v;
    ASSERT_TRUE(b->get(Column::kMeta, view("k"), v).ok());
    EXPECT_EQ(v, to_bytes("v"));
    WriteBatch w;
    w.put(Column::kMeta, view("x"), view("y"));
    EXPECT_FALSE(a->write(w).ok());
    const std::array<ByteView, 1> keys{view("x")};
    EXPECT_TRUE(a->put_sorted(Column::kTrieNodes, keys, keys).is_not_supported());
    TempDir empty;
    std::unique_ptr<RocksKV> none;
    EXPECT_TRUE(RocksKV::open(empty.path(), ro, none).is_not_found());
}

}  // namespace
}  // namespace carousel::store
