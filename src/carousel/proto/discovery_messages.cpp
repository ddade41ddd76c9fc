// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "discovery_messages.hpp"

#include <carousel/core/rlp.hpp>

namespace carousel::proto {

std::string_view to_string(DiscoveryWireError e) noexcept {
    switch (e) {
        case DiscoveryWireError::kEmptyFrame:
            return "empty frame";
        case DiscoveryWireError::kWrongType:
            return "unexpected message type";
        case DiscoveryWireError::kMalformed:
            return "malformed message";
        case DiscoveryWireError::kBadHashLength:
            return "target or ping hash is not 32 bytes";
        case DiscoveryWireError::kRecordTooLarge:
            return "node record over 300 bytes";
        case DiscoveryWireError::kBadCount:
            return "FINDNODES count is 0 or over the cap";
        case DiscoveryWireError::kBadTotal:
            return "NODES total is 0 or over the cap";
        case DiscoveryWireError::kTooManyRecords:
            return "NODES packet with more records than the cap";
    }
    return "unknown discovery wire error";
}

namespace {

using Type = DiscoveryMessageType;
template <class T>
using R = DiscoveryResult<T>;

Bytes frame_of(Type type, const Bytes& payload) {
    Bytes out;
    out.reserve(1 + rlp::header_length(payload.size()) + payload.size());
    out.push_back(static_cast<uint8_t>(type));
    rlp::encode_header(out, {true, payload.size()});
    out += payload;
    return out;
}

std::size_t records_payload(const std::vector<Bytes>& records, std::size_t first, std::size_t end) {
    std::size_t n = 0;
    for (std::size_t i = first; i < end; ++i) n += rlp::length(ByteView{records[i]});
    return n;
}

// ---- decoding ---------------------------------------------------------------------------------

R<ByteView> body_of(ByteView frame, Type expected) {
    if (frame.empty()) return tl::unexpected{DiscoveryWireError::kEmptyFrame};
    if (frame[0] != static_cast<uint8_t>(expected)) return tl::unexpected{DiscoveryWireError::kWrongType};
    ByteView body = frame.substr(1);
    if (!rlp::validate(body)) return tl::unexpected{DiscoveryWireError::kMalformed};
    auto list = rlp::decode_list(body);
    if (!list || !body.empty()) return tl::unexpected{DiscoveryWireError::kMalformed};
    return *list;
}

R<uint64_t> uint_of(ByteView& in) {
    auto v = rlp::decode_uint64(in);
    if (!v) return tl::unexpected{DiscoveryWireError::kMalformed};
    return *v;
}

R<Hash> hash_of(ByteView& in) {
    auto s = rlp::decode_string(in);
    if (!s) return tl::unexpected{DiscoveryWireError::kMalformed};
    if (s->size() != 32) return tl::unexpected{DiscoveryWireError::kBadHashLength};
    return to_hash(*s);
}

R<Bytes> record_of(ByteView& in) {
    auto s = rlp::decode_string(in);
    if (!s) return tl::unexpected{DiscoveryWireError::kMalformed};
    if (s->size() > kMaxRecordSize) return tl::unexpected{DiscoveryWireError::kRecordTooLarge};
    return Bytes{*s};
}

R<void> must_be_empty(ByteView in) {
    if (!in.empty()) return tl::unexpected{DiscoveryWireError::kMalformed};
    return {};
}

}  // namespace

Bytes encode(const DiscoveryPing& m) {
    Bytes payload;
    rlp::encode(payload, m.request_id);
    rlp::encode(payload, ByteView{m.record});
    return frame_of(Type::kPing, payload);
}

Bytes encode(const DiscoveryPong& m) {
    Bytes payload;
    rlp::encode(payload, m.request_id);
    rlp::encode(payload, view(m.ping_hash));
    rlp::encode(payload, ByteView{m.record});
    return frame_of(Type::kPong, payload);
}

Bytes encode(const DiscoveryFindNodes& m) {
    Bytes payload;
    rlp::encode(payload, m.request_id);
    rlp::encode(payload, view(m.target));
    rlp::encode(payload, m.count);
    return frame_of(Type::kFindNodes, payload);
}

Bytes encode(const DiscoveryNodes& m) {
    Bytes payload;
    rlp::encode(payload, m.request_id);
    rlp::encode(payload, m.total);
    rlp::encode_header(payload, {true, records_payload(m.records, 0, m.records.size())});
    for (const Bytes& r : m.records) rlp::encode(payload, ByteView{r});
    return frame_of(Type::kNodes, payload);
}

R<DiscoveryPing> decode_discovery_ping(ByteView frame) {
    auto body = body_of(frame, Type::kPing);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    DiscoveryPing m;
    auto id = uint_of(in);
    if (!id) return tl::unexpected{id.error()};
    m.request_id = *id;
    auto record = record_of(in);
    if (!record) return tl::unexpected{record.error()};
    m.record = std::move(*record);
    if (auto e = must_be_empty(in); !e) return tl::unexpected{e.error()};
    return m;
}

R<DiscoveryPong> decode_discovery_pong(ByteView frame) {
    auto body = body_of(frame, Type::kPong);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    DiscoveryPong m;
    auto id = uint_of(in);
    if (!id) return tl::unexpected{id.error()};
    m.request_id = *id;
    auto hash = hash_of(in);
    if (!hash) return tl::unexpected{hash.error()};
    m.ping_hash = *hash;
    auto record = record_of(in);
    if (!record) return tl::unexpected{record.error()};
    m.record = std::move(*record);
    if (auto e = must_be_empty(in); !e) return tl::unexpected{e.error()};
    return m;
}

R<DiscoveryFindNodes> decode_discovery_find_nodes(ByteView frame) {
    auto body = body_of(frame, Type::kFindNodes);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    DiscoveryFindNodes m;
    auto id = uint_of(in);
    if (!id) return tl::unexpected{id.error()};
    m.request_id = *id;
    auto target = hash_of(in);
    if (!target) return tl::unexpected{target.error()};
    m.target = *target;
    auto count = uint_of(in);
    if (!count) return tl::unexpected{count.error()};
    if (*count == 0 || *count > kMaxFindNodesCount) return tl::unexpected{DiscoveryWireError::kBadCount};
    m.count = *count;
    if (auto e = must_be_empty(in); !e) return tl::unexpected{e.error()};
    return m;
}

R<DiscoveryNodes> decode_discovery_nodes(ByteView frame) {
    auto body = body_of(frame, Type::kNodes);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    DiscoveryNodes m;
    auto id = uint_of(in);
    if (!id) return tl::unexpected{id.error()};
    m.request_id = *id;
    auto total = uint_of(in);
    if (!total) return tl::unexpected{total.error()};
    if (*total == 0 || *total > kMaxNodesPackets) return tl::unexpected{DiscoveryWireError::kBadTotal};
    m.total = *total;
    auto list = rlp::decode_list(in);
    if (!list) return tl::unexpected{DiscoveryWireError::kMalformed};
    for (ByteView records = *list; !records.empty();) {
        if (m.records.size() >= kMaxFindNodesCount) return tl::unexpected{DiscoveryWireError::kTooManyRecords};
        auto record = record_of(records);
        if (!record) return tl::unexpected{record.error()};
        m.records.push_back(std::move(*record));
    }
    if (auto e = must_be_empty(in); !e) return tl::unexpected{e.error()};
    return m;
}

std::size_t records_that_fit(const std::vector<Bytes>& records, std::size_t first) {
    // type byte + body list header + request id (<= 9) + total (<= 9) + records list header, in the
    // worst case, then the records themselves.
    constexpr std::size_t kFixed = 1 + 9 + 9 + 9 + 9;
    constexpr std::size_t kRoom = kMaxDatagramSize - kDiscoveryEnvelope - kFixed;
    std::size_t end = first;
    std::size_t used = 0;
    while (end < records.size() && end - first < kMaxFindNodesCount) {
        const std::size_t next = rlp::length(ByteView{records[end]});
        if (used + next > kRoom) break;
        used += next;
        ++end;
    }
    return end - first;
}

}  // namespace carousel::proto
