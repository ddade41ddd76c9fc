// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "sync_record.hpp"

#include <string_view>

namespace carousel::store {
namespace {
constexpr std::string_view kKey = "sync";
constexpr std::size_t kSize = 1 + 32;
}  // namespace

tl::expected<std::optional<SyncRecord>, Status> read_sync_record(const KV& kv) {
    Bytes v;
    const Status s = kv.get(Column::kMeta, view(kKey), v);
    if (s.is_not_found()) return std::nullopt;
    if (!s.ok()) return tl::unexpected{s};
    if (v.size() != kSize || v[0] > 1) {
        return tl::unexpected{
            Status::corruption("the meta record \"sync\" is malformed (" + std::to_string(v.size()) + " bytes)")};
    }
    return SyncRecord{.root = to_hash(ByteView{v}.substr(1)), .complete = v[0] == 1};
}

Status write_sync_record(KV& kv, const SyncRecord& record) {
    Bytes v(1, record.complete ? 1 : 0);
    v.append(record.root.data(), record.root.size());
    return kv.put(Column::kMeta, view(kKey), v, WriteOptions{.sync = true});
}

}  // namespace carousel::store
