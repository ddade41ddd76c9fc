// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "rocks_kv.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <fcntl.h>
#include <unistd.h>

namespace carousel::store {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMarkerKey{"carousel.format"};
constexpr std::string_view kMagic{"carousel-kv"};

rocksdb::Slice slice(ByteView b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};  // NOLINT: byte reinterpretation
}
rocksdb::Slice slice(std::string_view s) noexcept { return {s.data(), s.size()}; }
ByteView view(const rocksdb::Slice& s) noexcept {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};  // NOLINT: byte reinterpretation
}

std::string column_family_name(Column column) { return std::string{to_string(column)}; }

// put_sorted's table files are built under this name in the database's directory.
constexpr std::string_view kIngestPrefix{"carousel-ingest-"};

// Removes the table files a put_sorted killed before its ingestion left behind.
void remove_ingest_leftovers(const fs::path& dir) noexcept {
    std::error_code ec;
    std::vector<fs::path> stale;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().filename().string().starts_with(kIngestPrefix)) stale.push_back(entry.path());
    }
    for (const auto& p : stale) fs::remove(p, ec);
}

// RocksDB's status as ours, its message prefixed with `where` (the path, and what we were doing).
Status to_status(const rocksdb::Status& s, const std::string& where) {
    if (s.ok()) return {};
    std::string message = where + ": " + s.ToString();
    if (s.IsNotFound()) return Status::not_found(std::move(message));
    if (s.IsCorruption()) return Status::corruption(std::move(message));
    if (s.IsNotSupported()) return Status::not_supported(std::move(message));
    if (s.IsInvalidArgument()) return Status::invalid_argument(std::move(message));
    return Status::io_error(std::move(message));  // IOError, and Busy, TimedOut, Aborted, ...
}

// RocksDB's message for a damaged table file found while opening does not always name the file.
// Finds table files whose footer or metadata cannot be read and names them (up to three).
std::string name_bad_tables(const fs::path& dir) {
    std::string out;
    int found = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".sst") continue;
        rocksdb::SstFileReader reader{rocksdb::Options{}};
        const rocksdb::Status s = reader.Open(entry.path().string());
        if (s.ok()) continue;
        out += "; table file " + entry.path().filename().string() + ": " + s.ToString();
        if (++found == 3) break;
    }
    return out;
}

// While opening a database that exists, a file it names that cannot be found or read in full is
// damage to the database, not an operating-system failure. With `dir`, names damaged table files.
// What a process that may not share the database is told (RocksDB's lock, or a reader's, is held).
constexpr const char* kInUse =
    ": in use by another process (a `carousel serve` serving it, or a sync, gen or serve --prepare writing "
    "it); several servers may share a database, but a writer needs it alone: stop the others first";

Status open_status(const rocksdb::Status& s, const std::string& where, const fs::path* dir = nullptr) {
    if (s.ok()) return {};
    // RocksDB's "While lock file: DIR/LOCK: Resource temporarily unavailable".
    if (s.IsIOError() && s.ToString().find("lock file") != std::string::npos) {
        return Status::io_error(where + kInUse + " (" + s.ToString() + ")");
    }
    if (!s.IsCorruption() && !s.IsPathNotFound() && !s.IsIncomplete()) return to_status(s, where);
    return Status::corruption(where + ": " + s.ToString() + (dir != nullptr ? name_bad_tables(*dir) : ""));
}

rocksdb::CompressionType pick_compression(rocksdb::CompressionType wanted) {
    static const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
    for (auto c : {wanted, rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
        if (std::find(supported.begin(), supported.end(), c) != supported.end()) return c;
    }
    return rocksdb::kNoCompression;
}

// Shards of the block cache: RocksDB's default makes 64 of any cache of 32 MiB or more, and each
// shard evicts on its own, its high-priority half holding the filter and index blocks. A table file's
// filter is one block of about 10 bits per key (a 64 MiB file of trie nodes: some 400 KiB), so in
// 512 KiB shards (a 32 MiB cache, a syncing client's) filters evicted one another on every lookup and
// were read from disk again each time. Shards of at least 8 MiB hold them.
int cache_shard_bits(std::size_t cache_bytes) noexcept {
    int bits = 0;
    while (bits < 6 && (cache_bytes >> (bits + 1)) >= (std::size_t{8} << 20)) ++bits;
    return bits;
}

rocksdb::ColumnFamilyOptions column_options(Column column, const RocksKV::Options& options,
                                            const std::shared_ptr<rocksdb::Cache>& cache) {
    const bool scanned =
        column == Column::kAccountLeaves || column == Column::kStorageLeaves || column == Column::kPathNodes;
    const bool big = scanned || column == Column::kTrieNodes;

    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.block_size = scanned ? 16 * 1024 : 4 * 1024;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(options.bloom_bits_per_key));
    table.cache_index_and_filter_blocks = true;
    table.cache_index_and_filter_blocks_with_high_priority = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    table.format_version = 5;

    rocksdb::ColumnFamilyOptions cf;
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    if (column == Column::kTrieNodes || column == Column::kPathNodes) {
        // Trie nodes are mostly 32-byte hashes, which do not compress: compressing them costs CPU on
        // every flush, compaction and block read for a few percent of space.
        cf.compression = rocksdb::kNoCompression;
        cf.bottommost_compression = rocksdb::kNoCompression;
        if (column == Column::kTrieNodes) {
            // Writes slow down and stop at RocksDB's default distances above the trigger (20 and 36
            // files for its default of 4).
            cf.level0_file_num_compaction_trigger = options.trie_node_level0_files;
            cf.level0_slowdown_writes_trigger = options.trie_node_level0_files + 16;
            cf.level0_stop_writes_trigger = options.trie_node_level0_files + 32;
        }
    } else {
        cf.compression = pick_compression(rocksdb::kLZ4Compression);
        cf.bottommost_compression = pick_compression(rocksdb::kZSTD);
    }
    cf.level_compaction_dynamic_level_bytes = true;
    // A bloom filter over each memtable's keys: most point reads (a trie node by hash, a reference
    // count) are for keys written long ago, and without it every one first searched the memtables'
    // skip lists (a cache miss per level: 20% of a block's apply on RocksKV).
    cf.memtable_whole_key_filtering = true;
    cf.memtable_prefix_bloom_size_ratio = 0.02;
    cf.write_buffer_size = big ? options.write_buffer_bytes : options.write_buffer_bytes / 4;
    cf.max_write_buffer_number = 3;
    return cf;
}

rocksdb::DBOptions db_options(const RocksKV::Options& options) {
    rocksdb::DBOptions db;
    db.paranoid_checks = true;
    db.max_background_jobs = options.background_jobs;
    db.db_write_buffer_size = options.write_buffer_bytes * 4;
    db.bytes_per_sync = 1 << 20;
    db.keep_log_file_num = 4;
    db.max_log_file_size = 8 << 20;
    return db;
}

std::string marker_value(uint32_t version) {
    std::string v{kMagic};
    for (int shift = 24; shift >= 0; shift -= 8) v.push_back(static_cast<char>((version >> shift) & 0xff));
    return v;
}

// Checks the format marker in the default column family. Sets `absent` (and returns an error
// naming it) when there is none, so the caller may tell an interrupted creation from a foreign DB.
Status check_marker(rocksdb::DB& db, const std::string& where, bool& absent) {
    absent = false;
    std::string value;
    const rocksdb::Status s = db.Get(rocksdb::ReadOptions{}, slice(kMarkerKey), &value);
    if (s.IsNotFound()) {
        absent = true;
        return Status::invalid_argument(where + ": not a carousel database (no format marker)");
    }
    if (!s.ok()) return open_status(s, where + ": reading the format marker");
    if (value.size() < kMagic.size() || std::string_view{value}.substr(0, kMagic.size()) != kMagic) {
        return Status::invalid_argument(where + ": not a carousel database (foreign format marker)");
    }
    if (value.size() != kMagic.size() + 4) {
        return Status::corruption(where + ": format marker has " + std::to_string(value.size()) + " bytes, expected " +
                                  std::to_string(kMagic.size() + 4));
    }
    uint32_t version = 0;
    for (std::size_t i = kMagic.size(); i < value.size(); ++i) {
        version = (version << 8) | static_cast<uint8_t>(value[i]);
    }
    if (version != RocksKV::kFormatVersion) {
        return Status::not_supported(where + ": carousel database format version " + std::to_string(version) +
                                     ", this build reads version " + std::to_string(RocksKV::kFormatVersion));
    }
    return {};
}

class RocksIterator final : public Iterator {
  public:
    RocksIterator(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, Column column, KeyRange range,
                  const std::string& where)
        : range_{std::move(range)}, column_{column}, where_{where} {
        rocksdb::ReadOptions ro;
        if (!range_.lower.empty()) {
            lower_ = slice(ByteView{range_.lower});
            ro.iterate_lower_bound = &lower_;
        }
        if (range_.upper) {
            upper_ = slice(ByteView{*range_.upper});
            ro.iterate_upper_bound = &upper_;
        }
        it_.reset(db.NewIterator(ro, cf));
    }

    [[nodiscard]] bool valid() const noexcept override { return it_->Valid(); }
    // RocksDB enforces the lower bound on backward moves and the upper bound on forward ones and in
    // SeekToLast; the other cases are clamped here.
    void seek_to_first() noexcept override {
        if (range_.lower.empty()) {
            it_->SeekToFirst();
        } else {
            it_->Seek(lower_);
        }
    }
    void seek_to_last() noexcept override { it_->SeekToLast(); }
    void seek(ByteView target) noexcept override {
        if (target < range_.lower) return seek_to_first();
        it_->Seek(slice(target));
    }
    void seek_for_prev(ByteView target) noexcept override {
        if (range_.upper && target >= *range_.upper) return seek_to_last();
        it_->SeekForPrev(slice(target));
    }
    void next() noexcept override { it_->Next(); }
    void prev() noexcept override { it_->Prev(); }
    [[nodiscard]] ByteView key() const noexcept override { return view(it_->key()); }
    [[nodiscard]] ByteView value() const noexcept override { return view(it_->value()); }
    [[nodiscard]] Status status() const noexcept override {
        const rocksdb::Status s = it_->status();
        if (s.ok()) return {};
        return to_status(s, where_ + ": iterating " + column_family_name(column_));
    }

  private:
    // The bounds must outlive the RocksDB iterator, which keeps pointers to them.
    KeyRange range_;
    rocksdb::Slice lower_;
    rocksdb::Slice upper_;
    Column column_;
    const std::string& where_;  // the KV's path, which outlives the iterator
    std::unique_ptr<rocksdb::Iterator> it_;
};

// Builds a RocksDB batch from ours.
class BatchConverter final : public WriteBatch::Handler {
  public:
    BatchConverter(const std::array<rocksdb::ColumnFamilyHandle*, kNumColumns>& columns, std::size_t reserve)
        : columns_{columns}, batch_{reserve} {}

    void put(Column column, ByteView key, ByteView value) override {
        keep(batch_.Put(handle(column), slice(key), slice(value)));
    }
    void del(Column column, ByteView key) override { keep(batch_.Delete(handle(column), slice(key))); }
    void del_range(Column column, ByteView begin, ByteView end) override {
        if (begin >= end) return;
        keep(batch_.DeleteRange(handle(column), slice(begin), slice(end)));
    }

    rocksdb::WriteBatch& batch() noexcept { return batch_; }
    const rocksdb::Status& status() const noexcept { return status_; }

  private:
    rocksdb::ColumnFamilyHandle* handle(Column column) const noexcept {
        return columns_[static_cast<std::size_t>(column)];
    }
    void keep(const rocksdb::Status& s) {
        if (status_.ok() && !s.ok()) status_ = s;
    }

    const std::array<rocksdb::ColumnFamilyHandle*, kNumColumns>& columns_;
    rocksdb::WriteBatch batch_;
    rocksdb::Status status_;
};

}  // namespace

struct RocksKV::Impl {
    fs::path dir;
    std::string where;  // dir as a string, to prefix messages
    std::unique_ptr<rocksdb::DB> db;
    rocksdb::ColumnFamilyHandle* default_column{nullptr};
    std::array<rocksdb::ColumnFamilyHandle*, kNumColumns> columns{};
    bool read_only{false};
    std::atomic<uint64_t> ingested{0};  // put_sorted calls so far: names their table files apart
    int reader_lock{-1};                // read-only: the descriptor holding a shared lock on DIR/LOCK

    ~Impl() {
        close_db();
        if (reader_lock >= 0) ::close(reader_lock);
    }

    // A read-only open takes a shared lock on the LOCK file that RocksDB's writers lock exclusively
    // (an open-file-description lock, which conflicts with their POSIX record lock): a writer then
    // cannot open a database a server is serving, and a server does not open one being written.
    // Readers share it. A database without a LOCK file was never opened for writing.
    Status lock_for_reading() {
        const fs::path lock = dir / "LOCK";
        reader_lock = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
        if (reader_lock < 0) return errno == ENOENT ? Status{} : Status::io_error(where + ": opening LOCK failed");
        struct flock f {};
        f.l_type = F_RDLCK;
        f.l_whence = SEEK_SET;
        if (::fcntl(reader_lock, F_OFD_SETLK, &f) == 0) return {};
        return Status::io_error(where + kInUse);
    }

    // A writer's look before RocksDB opens (which rotates the info LOG before it takes its lock):
    // whether anyone holds DIR/LOCK. The lock is released at once; RocksDB takes its own.
    Status probe_for_writing() const {
        const fs::path lock = dir / "LOCK";
        const int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) return {};  // never opened for writing, or not ours to judge: RocksDB says
        struct flock f {};
        f.l_type = F_WRLCK;
        f.l_whence = SEEK_SET;
        const bool free = ::fcntl(fd, F_OFD_SETLK, &f) == 0;
        ::close(fd);  // releases the probe's lock
        return free ? Status{} : Status::io_error(where + kInUse);
    }

    void close_db() {
        if (!db) return;
        for (auto* h : columns) {
            if (h != nullptr) (void)db->DestroyColumnFamilyHandle(h);
        }
        if (default_column != nullptr) (void)db->DestroyColumnFamilyHandle(default_column);
        (void)db->Close();
        db.reset();
    }

    // Opens the database read-write with all of carousel's columns, creating the missing ones; or
    // read-only with the columns in `present` (the others stay null: empty).
    Status open_db(const RocksKV::Options& options, bool create, const std::vector<std::string>* present = nullptr) {
        rocksdb::DBOptions dbo = db_options(options);
        dbo.create_if_missing = create;
        dbo.error_if_exists = create;
        dbo.create_missing_column_families = true;

        const auto cache = rocksdb::NewLRUCache(options.block_cache_bytes, cache_shard_bits(options.block_cache_bytes));
        std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
        descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{});
        std::vector<Column> opened;
        for (Column c : kAllColumns) {
            if (present != nullptr &&
                std::find(present->begin(), present->end(), column_family_name(c)) == present->end()) {
                continue;
            }
            descriptors.emplace_back(column_family_name(c), column_options(c, options, cache));
            opened.push_back(c);
        }

        std::vector<rocksdb::ColumnFamilyHandle*> handles;
        rocksdb::DB* raw = nullptr;
        const rocksdb::Status s = options.read_only
                                      ? rocksdb::DB::OpenForReadOnly(dbo, dir.string(), descriptors, &handles, &raw)
                                      : rocksdb::DB::Open(dbo, dir.string(), descriptors, &handles, &raw);
        if (create && !s.ok()) return to_status(s, where + ": creating the database");
        if (!s.ok()) return open_status(s, where, &dir);
        db.reset(raw);
        default_column = handles[0];
        for (std::size_t i = 0; i < opened.size(); ++i) columns[static_cast<std::size_t>(opened[i])] = handles[i + 1];
        return {};
    }

    // True if no column holds a key (the default one may hold nothing but a marker).
    [[nodiscard]] bool all_columns_empty() const {
        for (auto* h : columns) {
            if (h == nullptr) continue;
            std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(rocksdb::ReadOptions{}, h)};
            it->SeekToFirst();
            if (it->Valid() || !it->status().ok()) return false;
        }
        return true;
    }

    Status write_marker() {
        rocksdb::WriteOptions wo;
        wo.sync = true;
        const rocksdb::Status s =
            db->Put(wo, default_column, slice(kMarkerKey), slice(marker_value(RocksKV::kFormatVersion)));
        return to_status(s, where + ": writing the format marker");
    }
};

RocksKV::RocksKV(PrivateTag /*tag*/, std::unique_ptr<Impl> impl) noexcept : impl_{std::move(impl)} {}
RocksKV::~RocksKV() = default;

const fs::path& RocksKV::path() const noexcept { return impl_->dir; }

Status RocksKV::open(const fs::path& dir, const Options& options, std::unique_ptr<RocksKV>& kv) noexcept {
    kv.reset();
    auto impl = std::make_unique<Impl>();
    impl->dir = dir;
    impl->where = dir.string();
    const std::string& where = impl->where;

    std::error_code ec;
    const fs::file_status st = fs::status(dir, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) return Status::io_error(where + ": " + ec.message());
    ec.clear();
    const bool exists = fs::exists(st);
    if (exists && !fs::is_directory(st)) return Status::invalid_argument(where + ": exists and is not a directory");

    const bool has_current = exists && fs::exists(dir / "CURRENT", ec);
    if (!has_current) {
        const bool empty = !exists || fs::is_empty(dir, ec);
        if (ec) return Status::io_error(where + ": " + ec.message());
        if (!empty) {
            return Status::invalid_argument(where + ": not a database (a non-empty directory without a CURRENT file)");
        }
        if (!options.create_if_missing || options.read_only) return Status::not_found(where + ": no database");
        fs::create_directories(dir, ec);
        if (ec) return Status::io_error(where + ": creating the directory: " + ec.message());
        if (Status s = impl->open_db(options, /*create=*/true); !s.ok()) return s;
        if (Status s = impl->write_marker(); !s.ok()) return s;
        kv = std::make_unique<RocksKV>(PrivateTag{}, std::move(impl));
        return {};
    }

    if (Status s = options.read_only ? impl->lock_for_reading() : impl->probe_for_writing(); !s.ok()) return s;
    // An existing database: which column families does it have?
    std::vector<std::string> names;
    const rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(db_options(options), dir.string(), &names);
    if (!ls.ok()) return open_status(ls, where + ": reading the list of column families (CURRENT, MANIFEST)");
    std::vector<std::string> expected{rocksdb::kDefaultColumnFamilyName};
    for (Column c : kAllColumns) expected.push_back(column_family_name(c));
    for (const auto& name : names) {
        if (std::find(expected.begin(), expected.end(), name) == expected.end()) {
            std::string message = where;
            message += ": not a carousel database (unknown column family '";
            message += name;
            message += "')";
            return Status::invalid_argument(std::move(message));
        }
    }
    const bool complete = names.size() == expected.size();

    if (!complete) {
        // A foreign database, or a carousel one older than some of our columns. Check the marker
        // read-only first, so that a foreign database is left untouched.
        rocksdb::DBOptions dbo = db_options(options);
        std::vector<rocksdb::ColumnFamilyDescriptor> descriptors{
            {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{}}};
        std::vector<rocksdb::ColumnFamilyHandle*> handles;
        rocksdb::DB* raw = nullptr;
        const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(dbo, dir.string(), descriptors, &handles, &raw);
        if (!s.ok()) return open_status(s, where, &dir);
        std::unique_ptr<rocksdb::DB> ro{raw};
        bool absent = false;
        Status marker = check_marker(*ro, where, absent);
        for (auto* h : handles) (void)ro->DestroyColumnFamilyHandle(h);
        ro.reset();
        if (!marker.ok()) return marker;
    }

    // Read-only, a carousel database older than some columns opens with those columns empty.
    if (Status s = impl->open_db(options, /*create=*/false, options.read_only ? &names : nullptr); !s.ok()) return s;
    impl->read_only = options.read_only;
    if (!options.read_only) remove_ingest_leftovers(dir);
    bool absent = false;
    if (Status marker = check_marker(*impl->db, where, absent); !marker.ok()) {
        if (options.read_only) return marker;
        // All of our columns and no marker: a creation interrupted before it wrote the marker, if
        // nothing was stored yet.
        if (!(absent && complete && impl->all_columns_empty())) return marker;
        if (Status s = impl->write_marker(); !s.ok()) return s;
    }
    kv = std::make_unique<RocksKV>(PrivateTag{}, std::move(impl));
    return {};
}

Status RocksKV::get(Column column, ByteView key, Bytes& value) const noexcept {
    if (impl_->columns[static_cast<std::size_t>(column)] == nullptr) return Status::not_found();
    rocksdb::PinnableSlice pinned;
    const rocksdb::Status s =
        impl_->db->Get(rocksdb::ReadOptions{}, impl_->columns[static_cast<std::size_t>(column)], slice(key), &pinned);
    if (s.IsNotFound()) return Status::not_found();
    if (!s.ok()) return to_status(s, impl_->where + ": get in " + column_family_name(column));
    value.assign(view(pinned));
    return {};
}

Status RocksKV::write(const WriteBatch& batch, WriteOptions options) noexcept {
    BatchConverter converter{impl_->columns, batch.byte_size() + 64};
    batch.iterate(converter);
    if (!converter.status().ok()) return to_status(converter.status(), impl_->where + ": building a batch");
    rocksdb::WriteOptions wo;
    wo.sync = options.sync;
    return to_status(impl_->db->Write(wo, &converter.batch()), impl_->where + ": write");
}

Status RocksKV::put_sorted(Column column, std::span<const ByteView> keys, std::span<const ByteView> values) noexcept {
    const std::string& where = impl_->where;
    if (Status s = check_sorted_puts(keys, values); !s.ok())
        return Status::invalid_argument(where + ": " + s.message());
    if (impl_->read_only) return Status::not_supported(where + ": put_sorted: the database is open read-only");
    if (keys.empty()) return {};
    rocksdb::ColumnFamilyHandle* cf = impl_->columns[static_cast<std::size_t>(column)];
    // The table file is built in the database's directory (ingestion then links it in rather than
    // copying it), under a name RocksDB does not take for one of its own files; a kill before the
    // ingestion leaves it behind, and the next open removes it.
    const fs::path file = impl_->dir / (std::string{kIngestPrefix} + std::to_string(impl_->ingested++));
    rocksdb::SstFileWriter writer{rocksdb::EnvOptions{}, impl_->db->GetOptions(cf), cf};
    rocksdb::Status s = writer.Open(file.string());
    for (std::size_t i = 0; s.ok() && i < keys.size(); ++i) s = writer.Put(slice(keys[i]), slice(values[i]));
    if (s.ok()) s = writer.Finish();  // syncs the file
    if (s.ok()) {
        rocksdb::IngestExternalFileOptions io;
        io.move_files = true;           // a hard link, no copy
        io.write_global_seqno = false;  // the sequence number goes to the MANIFEST, not into the file
        s = impl_->db->IngestExternalFile(cf, {file.string()}, io);
    }
    std::error_code ec;
    fs::remove(file, ec);  // the link ingestion made (if any) keeps the data
    return to_status(s, where + ": put_sorted in " + column_family_name(column));
}

std::unique_ptr<Iterator> RocksKV::new_iterator(Column column, KeyRange range) const noexcept {
    if (impl_->columns[static_cast<std::size_t>(column)] == nullptr)
        return new_empty_iterator();  // a column a read-only open did not find (an older database)
    return std::make_unique<RocksIterator>(*impl_->db, impl_->columns[static_cast<std::size_t>(column)], column,
                                           std::move(range), impl_->where);
}

Status RocksKV::flush() noexcept {
    std::vector<rocksdb::ColumnFamilyHandle*> all;
    for (auto* h : impl_->columns) {
        if (h != nullptr) all.push_back(h);
    }
    all.push_back(impl_->default_column);
    return to_status(impl_->db->Flush(rocksdb::FlushOptions{}, all), impl_->where + ": flush");
}

Status RocksKV::compact() noexcept {
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* h : impl_->columns) {
        if (h == nullptr) continue;
        const rocksdb::Status s = impl_->db->CompactRange(options, h, nullptr, nullptr);
        if (!s.ok()) return to_status(s, impl_->where + ": compact");
    }
    return {};
}

Status RocksKV::verify_checksums() noexcept {
    return to_status(impl_->db->VerifyChecksum(), impl_->where + ": verifying checksums");
}

uint64_t RocksKV::sst_bytes() const noexcept {
    uint64_t total = 0;
    for (auto* h : impl_->columns) {
        if (h == nullptr) continue;
        uint64_t n = 0;
        if (impl_->db->GetIntProperty(h, rocksdb::DB::Properties::kTotalSstFilesSize, &n)) total += n;
    }
    return total;
}

}  // namespace carousel::store
