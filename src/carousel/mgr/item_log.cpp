// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "item_log.hpp"

namespace carousel::mgr {

void ItemLog::drop_front(Log& log) {
    log.bytes -= log.items.front().size();
    bytes_ -= log.items.front().size();
    log.items.pop_front();
    ++log.first_block;
}

void ItemLog::record(const Hash& region_first, uint64_t block, Bytes encoded) {
    if (keep_blocks_ == 0) return;
    Log& log = regions_[region_first];
    if (log.items.empty() || block != log.first_block + log.items.size()) {
        bytes_ -= log.bytes;
        log = Log{block, {}, 0};
    }
    log.bytes += encoded.size();
    bytes_ += encoded.size();
    log.items.push_back(std::move(encoded));
    while (log.items.size() > 1 && (log.items.size() > keep_blocks_ || log.bytes > max_region_bytes_)) {
        drop_front(log);
    }
}

void ItemLog::forget(const Hash& region_first) {
    const auto it = regions_.find(region_first);
    if (it == regions_.end()) return;
    bytes_ -= it->second.bytes;
    regions_.erase(it);
}

std::optional<std::vector<Bytes>> ItemLog::from(const Hash& region_first, uint64_t from_block, uint64_t to_block,
                                                uint64_t head, uint64_t max_size) const {
    if (from_block > head) return std::vector<Bytes>{};
    const auto it = regions_.find(region_first);
    if (it == regions_.end()) return std::nullopt;
    const Log& log = it->second;
    const uint64_t end = log.first_block + log.items.size();  // one past the last block held
    if (from_block < log.first_block || from_block >= end || end - 1 != head) return std::nullopt;
    std::vector<Bytes> out;
    uint64_t size = 0;
    for (uint64_t b = from_block; b < end && b <= to_block; ++b) {
        const Bytes& item = log.items[b - log.first_block];
        if (!out.empty() && size + item.size() > max_size) break;
        size += item.size();
        out.push_back(item);
    }
    return out;
}

}  // namespace carousel::mgr
