// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "epoch_records.hpp"

#include "epoch_nodes.hpp"

namespace carousel::mgr {

namespace {

constexpr uint8_t kFormat = 1;
constexpr uint8_t kHasPrevious = 1;
constexpr uint8_t kBeforeBoundary = 2;
constexpr std::size_t kHeadRecordSize = 1 + 8 + 8 + 8 + 1 + 8;
constexpr std::size_t kVersionHeaderSize = 1 + 32 + 4;

void put_u64(Bytes& out, uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

uint64_t take_u64(ByteView& in) {
    uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | in[i];
    in.remove_prefix(8);
    return v;
}

Hash take_hash(ByteView& in) {
    const Hash h = to_hash(in.substr(0, 32));
    in.remove_prefix(32);
    return h;
}

Bytes numbered_key(const Region& region, uint8_t kind, uint64_t number) {
    Bytes k = region_records_prefix(region);
    k.push_back(kind);
    put_u64(k, number);
    return k;
}

}  // namespace

std::string_view to_string(RecordError e) noexcept {
    switch (e) {
        case RecordError::kBadFormat:
            return "bad record format";
        case RecordError::kNotIncreasing:
            return "record accounts not increasing";
    }
    return "unknown record error";
}

Bytes region_records_prefix(const Region& region) {
    Bytes k = to_bytes("mgr/region/");
    k += region_key_prefix(region);
    return k;
}

Bytes head_record_key(const Region& region) {
    Bytes k = region_records_prefix(region);
    k.push_back('h');
    return k;
}

Bytes epoch_record_key(const Region& region, uint64_t number) { return numbered_key(region, 'e', number); }
Bytes block_record_key(const Region& region, uint64_t number) { return numbered_key(region, 'b', number); }

Bytes encode_head_record(const HeadRecord& r) {
    Bytes out;
    out.reserve(kHeadRecordSize);
    out.push_back(kFormat);
    put_u64(out, r.epoch_length);
    put_u64(out, r.head);
    put_u64(out, r.latest);
    out.push_back(static_cast<uint8_t>((r.previous ? kHasPrevious : 0) | (r.before_boundary ? kBeforeBoundary : 0)));
    put_u64(out, r.previous.value_or(0));
    return out;
}

tl::expected<HeadRecord, RecordError> decode_head_record(ByteView in) {
    if (in.size() != kHeadRecordSize || in[0] != kFormat) return tl::unexpected{RecordError::kBadFormat};
    in.remove_prefix(1);
    HeadRecord r;
    r.epoch_length = take_u64(in);
    r.head = take_u64(in);
    r.latest = take_u64(in);
    const uint8_t flags = in[0];
    in.remove_prefix(1);
    const uint64_t previous = take_u64(in);
    if ((flags & ~(kHasPrevious | kBeforeBoundary)) != 0) return tl::unexpected{RecordError::kBadFormat};
    if ((flags & kHasPrevious) != 0) r.previous = previous;
    r.before_boundary = (flags & kBeforeBoundary) != 0;
    return r;
}

Bytes encode_version_record(const VersionRecord& r) {
    Bytes out;
    out.reserve(kVersionHeaderSize + 64 * r.owners.size());
    out.push_back(kFormat);
    out += view(r.root);
    const auto count = static_cast<uint32_t>(r.owners.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(count >> shift));
    for (const auto& [account, root] : r.owners) {
        out += view(account);
        out += view(root);
    }
    return out;
}

tl::expected<VersionRecord, RecordError> decode_version_record(ByteView in) {
    if (in.size() < kVersionHeaderSize || in[0] != kFormat) return tl::unexpected{RecordError::kBadFormat};
    in.remove_prefix(1);
    VersionRecord r;
    r.root = take_hash(in);
    uint32_t count = 0;
    for (std::size_t i = 0; i < 4; ++i) count = (count << 8) | in[i];
    in.remove_prefix(4);
    if (in.size() != std::size_t{64} * count) return tl::unexpected{RecordError::kBadFormat};
    r.owners.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
        const Hash account = take_hash(in);
        const Hash root = take_hash(in);
        if (!r.owners.empty() && !(r.owners.back().first < account)) return tl::unexpected{RecordError::kNotIncreasing};
        r.owners.emplace_back(account, root);
    }
    return r;
}

}  // namespace carousel::mgr
