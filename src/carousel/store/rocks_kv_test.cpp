// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// What only RocksKV does: persistence across reopen, its format marker, rejecting foreign and
// damaged databases with a clear status, and recovery after the writing process is killed.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <carousel/core/hex.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/testing/killed_child.hpp>
#include <carousel/testing/temp_dir.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace carousel::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string str(ByteView b) { return {b.begin(), b.end()}; }

// Fixed seeds: a failure reproduces.
std::mt19937_64 seeded_rng(uint64_t seed) { return std::mt19937_64(seed); }

RocksKV::Options small_options() {
    RocksKV::Options options;
    options.block_cache_bytes = 8 << 20;
    options.write_buffer_bytes = 1 << 20;
    return options;
}

class RocksKVTest : public ::testing::Test {
  protected:
    [[nodiscard]] fs::path db_path() const { return dir_.path() / "db"; }

    Status open(std::unique_ptr<RocksKV>& kv) { return RocksKV::open(db_path(), small_options(), kv); }

    // Opens (creating) the database, stores a few keys in every column, flushes them to table
    // files, and closes it.
    void make_database(bool flush = true) {
        std::unique_ptr<RocksKV> kv;
        ASSERT_TRUE(open(kv).ok());
        WriteBatch batch;
        for (Column c : kAllColumns) {
            for (int i = 0; i < 100; ++i) {
                const std::string key = "key-" + std::to_string(1000 + i);
                batch.put(c, view(key), view(std::string(100, static_cast<char>('a' + i % 26))));
            }
        }
        ASSERT_TRUE(kv->write(batch, WriteOptions{.sync = true}).ok());
        if (flush) {
            ASSERT_TRUE(kv->flush().ok());
        }
    }

    [[nodiscard]] std::vector<fs::path> files_ending(std::string_view suffix) const {
        std::vector<fs::path> out;
        for (const auto& e : fs::directory_iterator(db_path())) {
            if (e.path().string().ends_with(suffix)) out.push_back(e.path());
        }
        std::sort(out.begin(), out.end());
        return out;
    }
    [[nodiscard]] std::vector<fs::path> files_starting(std::string_view prefix) const {
        std::vector<fs::path> out;
        for (const auto& e : fs::directory_iterator(db_path())) {
            if (e.path().filename().string().starts_with(prefix)) out.push_back(e.path());
        }
        return out;
    }

    // Overwrites `file` with garbage of the same size (or `size` bytes).
    static void overwrite(const fs::path& file, std::size_t size = 0) {
        if (size == 0) size = static_cast<std::size_t>(fs::file_size(file));
        std::string garbage(size, '\0');
        std::mt19937_64 rng = seeded_rng(7);
        for (auto& c : garbage) c = static_cast<char>(rng());
        std::ofstream out{file, std::ios::binary | std::ios::trunc};
        out.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }

    // Opens a plain RocksDB database (not carousel's) with the given column families.
    std::unique_ptr<rocksdb::DB> open_raw(const std::vector<std::string>& families, bool create = true) {
        rocksdb::DBOptions options;
        options.create_if_missing = create;
        options.create_missing_column_families = create;
        std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
        descriptors.reserve(families.size());
        for (const auto& name : families) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions{});
        rocksdb::DB* raw = nullptr;
        const rocksdb::Status s = rocksdb::DB::Open(options, db_path().string(), descriptors, &handles_, &raw);
        EXPECT_TRUE(s.ok()) << s.ToString();
        return std::unique_ptr<rocksdb::DB>{raw};
    }
    void close_raw(std::unique_ptr<rocksdb::DB>& db) {
        for (auto* h : handles_) (void)db->DestroyColumnFamilyHandle(h);
        handles_.clear();
        db.reset();
    }
    static std::vector<std::string> carousel_families() {
        std::vector<std::string> names{rocksdb::kDefaultColumnFamilyName};
        for (Column c : kAllColumns) names.emplace_back(to_string(c));
        return names;
    }
    // Replaces the format marker of a closed carousel database.
    void set_marker(const std::string& value) {
        auto db = open_raw(carousel_families(), false);
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions{}, "carousel.format", value).ok());
        close_raw(db);
    }

    TempDir dir_{"carousel-rocks-test-"};
    std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// ---- persistence --------------------------------------------------------------------------------

TEST_F(RocksKVTest, CreatesTheDirectory) {
    std::unique_ptr<RocksKV> kv;
    const fs::path nested = dir_.path() / "a" / "b";
    ASSERT_TRUE(RocksKV::open(nested, small_options(), kv).ok());
    EXPECT_TRUE(fs::exists(nested / "CURRENT"));
    EXPECT_EQ(kv->path(), nested);
}

TEST_F(RocksKVTest, OpensAnEmptyDirectory) {
    fs::create_directories(db_path());
    std::unique_ptr<RocksKV> kv;
    EXPECT_TRUE(open(kv).ok());
}

TEST_F(RocksKVTest, ReopenKeepsData) {
    for (bool flush : {false, true}) {
        SCOPED_TRACE(flush ? "flushed" : "only in the log");
        fs::remove_all(db_path());
        {
            std::unique_ptr<RocksKV> kv;
            ASSERT_TRUE(open(kv).ok());
            WriteBatch batch;
            for (Column c : kAllColumns) batch.put(c, view("k"), view(to_string(c)));
            batch.put(Column::kMeta, view("deleted"), view("x"));
            ASSERT_TRUE(kv->write(batch).ok());
            ASSERT_TRUE(kv->del(Column::kMeta, view("deleted")).ok());
            ASSERT_TRUE(kv->put(Column::kCode, view("synced"), view("y"), WriteOptions{.sync = true}).ok());
            if (flush) {
                ASSERT_TRUE(kv->flush().ok());
            }
        }
        std::unique_ptr<RocksKV> kv;
        const Status s = open(kv);
        ASSERT_TRUE(s.ok()) << s.to_string();
        Bytes value;
        for (Column c : kAllColumns) {
            ASSERT_TRUE(kv->get(c, view("k"), value).ok());
            EXPECT_EQ(str(value), to_string(c));
        }
        EXPECT_TRUE(kv->get(Column::kMeta, view("deleted"), value).is_not_found());
        ASSERT_TRUE(kv->get(Column::kCode, view("synced"), value).ok());
        EXPECT_EQ(str(value), "y");
    }
}

TEST_F(RocksKVTest, PutSortedSurvivesReopenAndLeavesNoFileBehind) {
    std::vector<std::string> names;
    for (int i = 0; i < 2000; ++i) names.push_back("node-" + std::to_string(100000 + i));
    {
        std::unique_ptr<RocksKV> kv;
        ASSERT_TRUE(open(kv).ok());
        for (int batch = 0; batch < 2; ++batch) {  // two table files over the same keys: the later wins
            std::vector<ByteView> keys;
            std::vector<ByteView> values;
            for (const auto& n : names) keys.push_back(view(n));
            const std::string value = batch == 0 ? "first" : "second";
            values.assign(keys.size(), view(value));
            const Status s = kv->put_sorted(Column::kTrieNodes, keys, values);
            ASSERT_TRUE(s.ok()) << s.to_string();
        }
        // A table file a kill left before its ingestion: removed at the next open.
        std::ofstream{db_path() / "carousel-ingest-99"} << "partial";
    }
    std::unique_ptr<RocksKV> kv;
    ASSERT_TRUE(open(kv).ok());
    Bytes value;
    for (const auto& n : names) {
        ASSERT_TRUE(kv->get(Column::kTrieNodes, view(n), value).ok()) << n;
        EXPECT_EQ(str(value), "second");
    }
    for (const auto& entry : fs::directory_iterator(db_path())) {
        EXPECT_FALSE(entry.path().filename().string().starts_with("carousel-ingest-")) << entry.path();
    }
    EXPECT_TRUE(kv->verify_checksums().ok());
}

TEST_F(RocksKVTest, CompactKeepsDataAndShrinksOverwrites) {
    std::unique_ptr<RocksKV> kv;
    ASSERT_TRUE(open(kv).ok());
    for (int round = 0; round < 5; ++round) {
        WriteBatch batch;
        for (int i = 0; i < 2000; ++i) {
            batch.put(Column::kAccountLeaves, view(std::to_string(100000 + i)), view(std::string(100, 'x')));
        }
        ASSERT_TRUE(kv->write(batch).ok());
        ASSERT_TRUE(kv->flush().ok());
    }
    const uint64_t before = kv->sst_bytes();
    ASSERT_TRUE(kv->compact().ok());
    const uint64_t after = kv->sst_bytes();
    EXPECT_GT(before, 0u);
    EXPECT_LT(after, before);
    EXPECT_TRUE(kv->verify_checksums().ok());
    Bytes value;
    ASSERT_TRUE(kv->get(Column::kAccountLeaves, view("101999"), value).ok());
    EXPECT_EQ(value.size(), 100u);
}

TEST_F(RocksKVTest, OpenWithoutCreateOfMissingDatabaseIsNotFound) {
    RocksKV::Options options = small_options();
    options.create_if_missing = false;
    std::unique_ptr<RocksKV> kv;
    const Status s = RocksKV::open(db_path(), options, kv);
    EXPECT_TRUE(s.is_not_found()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr(db_path().string()));
    EXPECT_EQ(kv, nullptr);
    EXPECT_FALSE(fs::exists(db_path()));
}

TEST_F(RocksKVTest, SecondOpenOfTheSameDatabaseIsRefused) {
    std::unique_ptr<RocksKV> first, second;
    ASSERT_TRUE(open(first).ok());
    const Status s = open(second);
    EXPECT_TRUE(s.is_io_error()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("in use by another process"));
    EXPECT_EQ(second, nullptr);
}

// Readers (servers) share a database; a writer refuses one that a reader has open, and a reader one
// that a writer has open. Each open is as another process's would be (the locks are per open).
TEST_F(RocksKVTest, AWriterRefusesADatabaseAReaderHasOpen) {
    {
        std::unique_ptr<RocksKV> kv;
        ASSERT_TRUE(open(kv).ok());
        ASSERT_TRUE(kv->put(Column::kMeta, view(std::string_view{"k"}), view(std::string_view{"v"})).ok());
    }
    RocksKV::Options ro;
    ro.read_only = true;
    std::unique_ptr<RocksKV> reader1, reader2, writer;
    ASSERT_TRUE(RocksKV::open(db_path(), ro, reader1).ok());
    ASSERT_TRUE(RocksKV::open(db_path(), ro, reader2).ok());
    Status s = open(writer);
    EXPECT_TRUE(s.is_io_error()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("in use by another process (a `carousel serve` serving it"));
    EXPECT_EQ(writer, nullptr);
    reader1.reset();
    EXPECT_FALSE(open(writer).ok()) << "one reader is left";
    reader2.reset();
    ASSERT_TRUE(open(writer).ok());
    s = RocksKV::open(db_path(), ro, reader1);
    EXPECT_TRUE(s.is_io_error()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("in use by another process"));
    writer.reset();
    ASSERT_TRUE(RocksKV::open(db_path(), ro, reader1).ok());
    Bytes v;
    EXPECT_TRUE(reader1->get(Column::kMeta, view(std::string_view{"k"}), v).ok());
}

// ---- not carousel's ------------------------------------------------------------------------------

TEST_F(RocksKVTest, RegularFileIsNotADatabase) {
    std::ofstream{db_path()} << "hello";
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_invalid_argument()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("not a directory"));
    EXPECT_EQ(kv, nullptr);
}

TEST_F(RocksKVTest, DirectoryWithOtherFilesIsNotADatabase) {
    fs::create_directories(db_path());
    std::ofstream{db_path() / "notes.txt"} << "hello";
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_invalid_argument()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("not a database"));
    EXPECT_THAT(s.message(), HasSubstr(db_path().string()));
    // Nothing was created in it.
    EXPECT_FALSE(fs::exists(db_path() / "CURRENT"));
}

TEST_F(RocksKVTest, ForeignDatabaseIsRejectedAndLeftUntouched) {
    {
        auto db = open_raw({rocksdb::kDefaultColumnFamilyName});
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions{}, "someone", "else's data").ok());
        close_raw(db);
    }
    auto listing = [&] {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(db_path())) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    };
    const auto files_before = listing();

    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_invalid_argument()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("not a carousel database"));
    EXPECT_THAT(s.message(), HasSubstr("no format marker"));
    EXPECT_EQ(kv, nullptr);

    EXPECT_EQ(listing(), files_before);
    std::vector<std::string> families;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions{}, db_path().string(), &families).ok());
    EXPECT_EQ(families, std::vector<std::string>{rocksdb::kDefaultColumnFamilyName});
}

TEST_F(RocksKVTest, ForeignColumnFamilyIsRejected) {
    {
        auto db = open_raw({rocksdb::kDefaultColumnFamilyName, "trie_nodes", "receipts"});
        close_raw(db);
    }
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_invalid_argument()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("unknown column family 'receipts'"));
}

TEST_F(RocksKVTest, ForeignMarkerIsRejected) {
    make_database();
    set_marker("some-other-tool v3");
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_invalid_argument()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("foreign format marker"));
}

TEST_F(RocksKVTest, OtherFormatVersionIsNotSupported) {
    make_database();
    set_marker(std::string{"carousel-kv"} + std::string{"\0\0\0\2", 4});
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_not_supported()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("format version 2, this build reads version 1"));
}

TEST_F(RocksKVTest, TruncatedMarkerIsCorruption) {
    make_database();
    set_marker("carousel-kv\1");
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("format marker"));
}

TEST_F(RocksKVTest, InterruptedCreationIsCompleted) {
    // All of carousel's column families, empty, and no marker: a creation that stopped before
    // writing the marker. Opening finishes it.
    {
        auto db = open_raw(carousel_families());
        close_raw(db);
    }
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    ASSERT_TRUE(s.ok()) << s.to_string();
    ASSERT_TRUE(kv->put(Column::kMeta, view("k"), view("v")).ok());
}

TEST_F(RocksKVTest, MissingMarkerWithDataIsRejected) {
    {
        auto db = open_raw(carousel_families());
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions{}, handles_[2], "node", "rlp").ok());
        close_raw(db);
    }
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_invalid_argument()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("no format marker"));
}

TEST_F(RocksKVTest, OlderDatabaseGetsItsMissingColumns) {
    // A carousel database from before the "blocks" column existed.
    {
        auto names = carousel_families();
        names.pop_back();
        auto db = open_raw(names);
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions{}, "carousel.format", std::string{"carousel-kv\0\0\0\1", 15}).ok());
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions{}, handles_[1], "head", "42").ok());
        close_raw(db);
    }
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    ASSERT_TRUE(s.ok()) << s.to_string();
    Bytes value;
    ASSERT_TRUE(kv->get(Column::kMeta, view("head"), value).ok());
    EXPECT_EQ(str(value), "42");
    EXPECT_TRUE(kv->put(Column::kBlocks, view("1"), view("root")).ok());
}

// ---- damaged ------------------------------------------------------------------------------------

TEST_F(RocksKVTest, GarbageCurrentIsCorruption) {
    make_database();
    overwrite(db_path() / "CURRENT", 40);
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr(db_path().string()));
    EXPECT_EQ(kv, nullptr);
}

TEST_F(RocksKVTest, CurrentNamingAMissingManifestIsCorruption) {
    make_database();
    std::ofstream{db_path() / "CURRENT", std::ios::trunc} << "MANIFEST-999999\n";
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr("MANIFEST"));
}

TEST_F(RocksKVTest, GarbageManifestIsCorruption) {
    make_database();
    const auto manifests = files_starting("MANIFEST-");
    ASSERT_FALSE(manifests.empty());
    for (const auto& m : manifests) overwrite(m);
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_EQ(kv, nullptr);
}

TEST_F(RocksKVTest, GarbageTableFileIsCorruption) {
    make_database();
    const auto tables = files_ending(".sst");
    ASSERT_FALSE(tables.empty());
    overwrite(tables.back());
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr(db_path().string()));
    EXPECT_THAT(s.message(), HasSubstr("table file " + tables.back().filename().string()));
    EXPECT_EQ(kv, nullptr);
}

TEST_F(RocksKVTest, MissingTableFileIsCorruption) {
    make_database();
    const auto tables = files_ending(".sst");
    ASSERT_FALSE(tables.empty());
    fs::remove(tables.front());
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    EXPECT_TRUE(s.is_corruption()) << s.to_string();
}

TEST_F(RocksKVTest, DamagedBlocksAreCorruptionNotWrongValues) {
    make_database();
    // Overwrite bytes near the start of every table file. Whether RocksDB reads the damaged block
    // when opening or only later, no wrong value may come out.
    for (const auto& table : files_ending(".sst")) {
        std::fstream f{table, std::ios::in | std::ios::out | std::ios::binary};
        f.seekp(64);
        const std::string junk(32, '\x5a');
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    if (!s.ok()) {
        EXPECT_TRUE(s.is_corruption()) << s.to_string();
        return;
    }
    EXPECT_TRUE(kv->verify_checksums().is_corruption());
    for (Column c : kAllColumns) {
        Bytes value;
        const Status g = kv->get(c, view("key-1000"), value);
        EXPECT_TRUE(g.is_corruption()) << to_string(c) << ": " << g.to_string();
        EXPECT_THAT(g.message(), HasSubstr(to_string(c)));

        auto it = kv->new_iterator(c);
        std::size_t n = 0;
        for (it->seek_to_first(); it->valid(); it->next()) ++n;
        EXPECT_TRUE(it->status().is_corruption()) << to_string(c) << ": " << n << " entries";
    }
}

TEST_F(RocksKVTest, DamagedDataBlockIsCorruptionOnRead) {
    // One table file of random (incompressible) values: 4 KiB data blocks, then the filter, index
    // and footer at its end. Damage in the middle of the first data block lets the database open;
    // reads of that block fail, reads elsewhere work.
    constexpr int kKeys = 400;
    auto key = [](int i) { return "node-" + std::to_string(1000 + i); };
    {
        std::unique_ptr<RocksKV> kv;
        ASSERT_TRUE(open(kv).ok());
        std::mt19937_64 rng = seeded_rng(1);
        WriteBatch batch;
        for (int i = 0; i < kKeys; ++i) {
            std::string value(100, '\0');
            for (auto& c : value) c = static_cast<char>(rng());
            batch.put(Column::kTrieNodes, view(key(i)), view(value));
        }
        ASSERT_TRUE(kv->write(batch).ok());
        ASSERT_TRUE(kv->flush().ok());
    }
    // The biggest table file is the column's (the other one holds the format marker).
    auto tables = files_ending(".sst");
    ASSERT_FALSE(tables.empty());
    std::sort(tables.begin(), tables.end(),
              [](const fs::path& a, const fs::path& b) { return fs::file_size(a) > fs::file_size(b); });
    ASSERT_GT(fs::file_size(tables[0]), 40'000u);
    {
        std::fstream f{tables[0], std::ios::in | std::ios::out | std::ios::binary};
        f.seekp(2000);
        const std::string junk(16, '\x5a');
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }

    std::unique_ptr<RocksKV> kv;
    const Status s = open(kv);
    ASSERT_TRUE(s.ok()) << s.to_string();
    Bytes value;
    const Status first = kv->get(Column::kTrieNodes, view(key(0)), value);
    EXPECT_TRUE(first.is_corruption()) << first.to_string();
    EXPECT_THAT(first.message(), HasSubstr("checksum mismatch"));
    EXPECT_THAT(first.message(), HasSubstr(tables[0].filename().string()));
    EXPECT_THAT(first.message(), HasSubstr("trie_nodes"));
    EXPECT_TRUE(kv->get(Column::kTrieNodes, view(key(kKeys - 1)), value).ok());
    EXPECT_EQ(value.size(), 100u);

    auto it = kv->new_iterator(Column::kTrieNodes);
    it->seek_to_first();
    EXPECT_FALSE(it->valid());
    EXPECT_TRUE(it->status().is_corruption()) << it->status().to_string();
    const Status verify = kv->verify_checksums();
    EXPECT_TRUE(verify.is_corruption()) << verify.to_string();
}

// ---- killed while writing -----------------------------------------------------------------------
//
// A child process (this test binary, run again with only the DISABLED_ child test) writes batches
// in a loop and reports each committed batch over a pipe; the parent kills it with SIGKILL at a
// random moment, reopens the database and checks that every batch is there wholly or not at all
// and that the last batch reported is there. Then it lets a new child continue, several rounds.
//
// Batch i (i = 0, 1, ...) writes, atomically:
// - kMeta "next" = i + 1;
// - kStorageLeaves "slot-NN" = i (32 keys, each overwritten by every batch);
// - kTrieNodes be64(i) ++ be32(j) = value(i, j) for j < batch_size(i) (1..400 keys), and deletes
//   batch i - 3's keys with a range delete, so exactly batches i-2..i are present afterwards.

constexpr const char* kChildDirEnv = "CAROUSEL_STORE_CRASH_DIR";
constexpr const char* kChildFdEnv = "CAROUSEL_STORE_CRASH_FD";
constexpr int kSlots = 32;
constexpr uint64_t kKeptBatches = 3;

std::size_t batch_size(uint64_t i) { return 1 + (i * 7919) % 400; }

Bytes be(uint64_t v, std::size_t n) {
    Bytes b(n, 0);
    for (std::size_t k = 0; k < n; ++k) b[n - 1 - k] = static_cast<uint8_t>(v >> (8 * k));
    return b;
}
uint64_t from_be(ByteView b) {
    uint64_t v = 0;
    for (uint8_t c : b) v = (v << 8) | c;
    return v;
}
Bytes node_key(uint64_t i, uint64_t j) { return be(i, 8) + be(j, 4); }
Bytes node_value(uint64_t i, uint64_t j) {
    Bytes v = be(i * 1000003 + j, 8);
    v.resize(100, static_cast<uint8_t>(i + j));
    return v;
}
Bytes slot_key(int s) { return to_bytes("slot-" + std::to_string(10 + s)); }

RocksKV::Options crash_options() {
    RocksKV::Options options = small_options();
    options.write_buffer_bytes = 256 << 10;  // frequent flushes and compactions while being killed
    return options;
}

// The child: runs only when started by KilledWriterLeavesWholeBatches.
TEST(RocksKVCrash, DISABLED_ChildWritesBatchesUntilKilled) {
    const auto setup = testing::child_setup(kChildDirEnv, kChildFdEnv);
    if (!setup) GTEST_SKIP() << "only run as the child of KilledWriterLeavesWholeBatches";

    std::unique_ptr<RocksKV> kv;
    const Status s = RocksKV::open(setup->dir, crash_options(), kv);
    ASSERT_TRUE(s.ok()) << s.to_string();
    Bytes value;
    uint64_t i = 0;
    if (kv->get(Column::kMeta, view("next"), value).ok()) i = from_be(value);
    for (;; ++i) {
        WriteBatch batch;
        if (i >= kKeptBatches) {
            batch.del_range(Column::kTrieNodes, node_key(i - kKeptBatches, 0), node_key(i - kKeptBatches + 1, 0));
        }
        for (uint64_t j = 0; j < batch_size(i); ++j) batch.put(Column::kTrieNodes, node_key(i, j), node_value(i, j));
        for (int k = 0; k < kSlots; ++k) batch.put(Column::kStorageLeaves, slot_key(k), be(i, 8));
        batch.put(Column::kMeta, view("next"), be(i + 1, 8));
        const Status w = kv->write(batch, WriteOptions{.sync = i % 16 == 0});
        ASSERT_TRUE(w.ok()) << w.to_string();
        ASSERT_TRUE(testing::report(*setup, i));
    }
}

// Checks the database after a kill; returns the number of committed batches.
uint64_t check_recovered(const fs::path& dir, uint64_t last_reported, bool any_reported) {
    std::unique_ptr<RocksKV> kv;
    const Status s = RocksKV::open(dir, crash_options(), kv);
    EXPECT_TRUE(s.ok()) << s.to_string();
    if (!s.ok()) return 0;
    Bytes value;
    EXPECT_TRUE(kv->get(Column::kMeta, view("next"), value).ok());
    const uint64_t next = from_be(value);
    if (any_reported) {
        EXPECT_GT(next, last_reported) << "the last batch reported committed is missing";
    }
    if (next == 0) return 0;

    // The slots were all written by the last batch.
    for (int k = 0; k < kSlots; ++k) {
        EXPECT_TRUE(kv->get(Column::kStorageLeaves, slot_key(k), value).ok());
        EXPECT_EQ(from_be(value), next - 1) << "slot " << k;
    }
    // Exactly the nodes of the last kKeptBatches batches, each batch whole.
    const uint64_t first = next >= kKeptBatches ? next - kKeptBatches : 0;
    auto it = kv->new_iterator(Column::kTrieNodes);
    it->seek_to_first();
    for (uint64_t i = first; i < next; ++i) {
        for (uint64_t j = 0; j < batch_size(i); ++j, it->next()) {
            // Report the first difference only.
            if (!it->valid() || it->key() != ByteView{node_key(i, j)}) {
                ADD_FAILURE() << "batch " << i << " (of " << next << " committed) lacks key " << j << "; found "
                              << (it->valid() ? to_hex(it->key()) : "the end");
                return next;
            }
            if (it->value() != ByteView{node_value(i, j)}) {
                ADD_FAILURE() << "batch " << i << " key " << j << " has a wrong value " << to_hex(it->value());
                return next;
            }
        }
    }
    EXPECT_FALSE(it->valid()) << "keys of batch " << (it->valid() ? from_be(it->key().substr(0, 8)) : 0)
                              << " remain, after " << next << " committed";
    EXPECT_TRUE(it->status().ok());
    return next;
}

TEST(RocksKVCrash, KilledWriterLeavesWholeBatches) {
    TempDir tmp{"carousel-crash-test-"};
    const fs::path db = tmp.path() / "db";

    // Random kill points; the seed is in the failure message.
    const uint32_t seed = std::random_device{}();
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng{seed};
    uint64_t committed = 0;
    for (int round = 0; round < 4; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        auto child = testing::KilledChild::start("RocksKVCrash.DISABLED_ChildWritesBatchesUntilKilled", kChildDirEnv,
                                                 db.string(), kChildFdEnv);
        ASSERT_NE(child, nullptr);

        // Let the child commit a random number of batches, then kill it at a random moment.
        const uint64_t wanted = 20 + rng() % 200;
        uint64_t reports = 0, last = 0;
        bool any = false;
        auto read_report = [&](int timeout_ms) {
            const auto report = child->read_report(timeout_ms);
            if (!report) return false;
            last = *report;
            any = true;
            ++reports;
            return true;
        };
        while (reports < wanted && read_report(60000)) {
        }
        EXPECT_EQ(reports, wanted) << "the child stopped reporting";
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
        EXPECT_TRUE(child->kill_and_reap()) << "the child did not die of SIGKILL";
        while (read_report(0)) {  // reports written before it died
        }

        if (any) {
            EXPECT_GE(last, committed);
        }
        const uint64_t next = check_recovered(db, last, any);
        EXPECT_GE(next, committed);
        committed = next;
        if (::testing::Test::HasFailure()) break;
    }
    EXPECT_GT(committed, 80u);
}

}  // namespace
}  // namespace carousel::store
