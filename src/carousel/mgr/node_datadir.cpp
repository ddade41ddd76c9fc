// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "node_datadir.hpp"

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>

#include "epoch_records.hpp"

namespace carousel::mgr {

namespace {

constexpr uint8_t kNodeRecordFormat = 1;
constexpr std::size_t kNodeRecordSize = 1 + 32 + 2 + 2 + 8;

Bytes node_record_key() { return to_bytes("mgr/node"); }

std::string region_name(const Region& region) {
    return to_hex_prefixed(view(region.first)) + "/" + std::to_string(region.bits);
}

}  // namespace

Bytes encode_node_record(const NodeRecord& record) {
    Bytes out;
    out.reserve(kNodeRecordSize);
    out.push_back(kNodeRecordFormat);
    out += view(record.covered.first);
    for (const unsigned bits : {record.covered.bits, record.region_bits}) {
        out.push_back(static_cast<uint8_t>(bits >> 8));
        out.push_back(static_cast<uint8_t>(bits));
    }
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(record.epoch_length >> shift));
    return out;
}

std::optional<NodeRecord> decode_node_record(ByteView in) {
    if (in.size() != kNodeRecordSize || in[0] != kNodeRecordFormat) return std::nullopt;
    NodeRecord r;
    r.covered.first = to_hash(in.substr(1, 32));
    r.covered.bits = (unsigned{in[33]} << 8) | in[34];
    r.region_bits = (unsigned{in[35]} << 8) | in[36];
    for (std::size_t i = 37; i < kNodeRecordSize; ++i) r.epoch_length = (r.epoch_length << 8) | in[i];
    // A block of whole regions, no more than 2^16 of them (MgrNode's cap), aligned to its size.
    if (r.covered.bits > 256 || r.region_bits > 256 || r.covered.bits < r.region_bits ||
        r.covered.bits - r.region_bits > 16 || r.epoch_length == 0 ||
        !(region_of(r.covered.first, dht::Radius{r.covered.bits}) == r.covered)) {
        return std::nullopt;
    }
    return r;
}

NodeDatadir::NodeDatadir(std::unique_ptr<store::RocksKV> kv) : kv_{std::move(kv)}, code_store_{*kv_} {}

tl::expected<std::unique_ptr<NodeDatadir>, DatadirError> NodeDatadir::open(const std::filesystem::path& dir,
                                                                           const store::RocksKV::Options& options) {
    std::unique_ptr<store::RocksKV> kv;
    if (const Status s = store::RocksKV::open(dir, options, kv); !s.ok()) {
        return tl::unexpected{DatadirError{DatadirError::Kind::kDatabase, s, std::nullopt, std::nullopt,
                                           dir.string() + ": " + s.to_string()}};
    }
    return std::make_unique<NodeDatadir>(std::move(kv));
}

DatadirError NodeDatadir::database_error(const Status& s) const {
    return DatadirError{DatadirError::Kind::kDatabase, s, std::nullopt, std::nullopt,
                        path().string() + ": " + s.to_string()};
}

tl::expected<std::optional<NodeRecord>, DatadirError> NodeDatadir::node_record() const {
    Bytes value;
    const Status s = kv_->get(store::Column::kMeta, node_record_key(), value);
    if (s.is_not_found()) return std::optional<NodeRecord>{};
    if (!s.ok()) return tl::unexpected{database_error(s)};
    auto r = decode_node_record(value);
    if (!r) {
        return tl::unexpected{DatadirError{DatadirError::Kind::kBadNodeRecord,
                                           {},
                                           std::nullopt,
                                           std::nullopt,
                                           path().string() + ": damaged: the node record does not decode"}};
    }
    return r;
}

tl::expected<void, DatadirError> NodeDatadir::write_node_record(const NodeRecord& record) {
    store::WriteOptions sync;
    sync.sync = true;  // rare, and what every other record is read by
    if (const Status s = kv_->put(store::Column::kMeta, node_record_key(), encode_node_record(record), sync); !s.ok()) {
        return tl::unexpected{database_error(s)};
    }
    return {};
}

tl::expected<std::vector<Region>, DatadirError> NodeDatadir::regions() const {
    // Head records: "mgr/region/" ++ first key (32) ++ bits (2) ++ 'h'.
    const Bytes all = to_bytes("mgr/region/");
    std::vector<Region> out;
    auto it = kv_->new_iterator(store::Column::kMeta, store::KeyRange::with_prefix(all));
    for (it->seek_to_first(); it->valid(); it->next()) {
        const ByteView k = it->key().substr(all.size());
        if (k.size() != 32 + 2 + 1 || k.back() != 'h') continue;
        Region r{to_hash(k.substr(0, 32)), (unsigned{k[32]} << 8) | k[33]};
        if (r.bits <= 256) out.push_back(r);
    }
    if (!it->status().ok()) return tl::unexpected{database_error(it->status())};
    return out;
}

tl::expected<std::vector<std::unique_ptr<EpochStore>>, DatadirError> NodeDatadir::open_stores(
    const NodeRecord& record) {
    std::vector<std::unique_ptr<EpochStore>> out;
    for (const Region& region : regions_in(record.covered, record.region_bits)) {
        auto store = EpochStore::reopen(*kv_, region, record.epoch_length);
        if (!store) {
            return tl::unexpected{DatadirError{
                DatadirError::Kind::kDamagedStore,
                {},
                region,
                store.error(),
                path().string() + ": region " + region_name(region) + ": " + std::string{to_string(store.error())}}};
        }
        out.push_back(std::move(*store));
    }
    return out;
}

std::unique_ptr<EpochStore> NodeDatadir::new_store(const Region& region, uint64_t epoch_length) {
    return std::make_unique<EpochStore>(region, epoch_length, std::make_unique<KvEpochNodes>(*kv_, region));
}

tl::expected<void, DatadirError> NodeDatadir::drop_region(const Region& region) {
    store::WriteBatch batch;
    for (const auto& [column, prefix] : {std::pair{store::Column::kTrieNodes, region_key_prefix(region)},
                                         std::pair{store::Column::kMeta, region_records_prefix(region)}}) {
        const store::KeyRange range = store::KeyRange::with_prefix(prefix);
        batch.del_range(column, range.lower, range.upper.value_or(Bytes{}));
    }
    if (const Status s = kv_->write(batch); !s.ok()) return tl::unexpected{database_error(s)};
    return {};
}

tl::expected<std::vector<Bytes>, DatadirError> NodeDatadir::code() const {
    std::vector<Bytes> out;
    auto it = kv_->new_iterator(store::Column::kCode);
    for (it->seek_to_first(); it->valid(); it->next()) {
        if (it->key().size() != 32 || keccak256(it->value()) != to_hash(it->key())) {
            return tl::unexpected{DatadirError{
                DatadirError::Kind::kBadCode,
                {},
                std::nullopt,
                std::nullopt,
                path().string() + ": damaged: code under a key that is not its hash: " + to_hex(it->key())}};
        }
        out.emplace_back(it->value());
    }
    if (!it->status().ok()) return tl::unexpected{database_error(it->status())};
    return out;
}

}  // namespace carousel::mgr
