// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "dht_messages.hpp"

#include <carousel/core/rlp.hpp>

namespace carousel::proto {

std::string_view to_string(DhtWireError e) noexcept {
    switch (e) {
        case DhtWireError::kEmptyFrame:
            return "empty frame";
        case DhtWireError::kWrongType:
            return "unexpected message type";
        case DhtWireError::kMalformed:
            return "malformed message";
        case DhtWireError::kBadIdLength:
            return "node id or target is not 32 bytes";
        case DhtWireError::kBadRadius:
            return "radius over 256 bits";
        case DhtWireError::kBadCount:
            return "FINDNODES count is 0 or over the cap";
        case DhtWireError::kTooManyNodes:
            return "NODES reply over the cap";
    }
    return "unknown DHT wire error";
}

namespace {

template <class T>
using R = DhtResult<T>;

// ---- encoding -----------------------------------------------------------------------------------

Bytes frame_of(DhtMessageType type, const Bytes& payload) {
    Bytes out;
    out.reserve(1 + rlp::header_length(payload.size()) + payload.size());
    out.push_back(static_cast<uint8_t>(type));
    rlp::encode_header(out, {true, payload.size()});
    out += payload;
    return out;
}

Bytes id_radius_frame(DhtMessageType type, uint64_t request_id, const Hash& id, unsigned radius_bits) {
    Bytes payload;
    rlp::encode(payload, request_id);
    rlp::encode(payload, view(id));
    rlp::encode(payload, uint64_t{radius_bits});
    return frame_of(type, payload);
}

// ---- decoding -----------------------------------------------------------------------------------

// The payload of the body's top-level list, after checking the type byte and that the body is one
// strict RLP item and nothing more.
R<ByteView> body_of(ByteView frame, DhtMessageType expected) {
    if (frame.empty()) return tl::unexpected{DhtWireError::kEmptyFrame};
    if (frame[0] != static_cast<uint8_t>(expected)) return tl::unexpected{DhtWireError::kWrongType};
    ByteView body = frame.substr(1);
    if (!rlp::validate(body)) return tl::unexpected{DhtWireError::kMalformed};
    auto list = rlp::decode_list(body);
    if (!list) return tl::unexpected{DhtWireError::kMalformed};
    return *list;
}

R<uint64_t> uint_of(ByteView& in) {
    auto v = rlp::decode_uint64(in);
    if (!v) return tl::unexpected{DhtWireError::kMalformed};
    return *v;
}

// A 32-byte id: a string of another length is kBadIdLength, anything else that is not a string
// kMalformed.
R<Hash> id_of(ByteView& in) {
    auto s = rlp::decode_string(in);
    if (!s) return tl::unexpected{DhtWireError::kMalformed};
    if (s->size() != 32) return tl::unexpected{DhtWireError::kBadIdLength};
    return to_hash(*s);
}

R<unsigned> radius_of(ByteView& in) {
    auto v = uint_of(in);
    if (!v) return tl::unexpected{v.error()};
    if (*v > kMaxRadiusBits) return tl::unexpected{DhtWireError::kBadRadius};
    return static_cast<unsigned>(*v);
}

R<void> must_be_empty(ByteView in) {
    if (!in.empty()) return tl::unexpected{DhtWireError::kMalformed};
    return {};
}

struct IdRadius {
    uint64_t request_id{0};
    Hash id{};
    unsigned radius_bits{0};
};

R<IdRadius> decode_id_radius(ByteView frame, DhtMessageType type) {
    auto body = body_of(frame, type);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    IdRadius m;
    auto req = uint_of(in);
    if (!req) return tl::unexpected{req.error()};
    m.request_id = *req;
    auto id = id_of(in);
    if (!id) return tl::unexpected{id.error()};
    m.id = *id;
    auto radius = radius_of(in);
    if (!radius) return tl::unexpected{radius.error()};
    m.radius_bits = *radius;
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

R<NodeRecord> decode_record(ByteView& in) {
    auto l = rlp::decode_list(in);
    if (!l) return tl::unexpected{DhtWireError::kMalformed};
    ByteView rec = *l;
    NodeRecord r;
    auto id = id_of(rec);
    if (!id) return tl::unexpected{id.error()};
    r.id = *id;
    auto address = uint_of(rec);
    if (!address) return tl::unexpected{address.error()};
    r.address = *address;
    auto radius = radius_of(rec);
    if (!radius) return tl::unexpected{radius.error()};
    r.radius_bits = *radius;
    if (auto e = must_be_empty(rec); !e) return tl::unexpected{e.error()};
    return r;
}

}  // namespace

Bytes encode(const Ping& m) { return id_radius_frame(DhtMessageType::kPing, m.request_id, m.sender, m.radius_bits); }
Bytes encode(const Pong& m) { return id_radius_frame(DhtMessageType::kPong, m.request_id, m.sender, m.radius_bits); }

Bytes encode(const FindNodes& m) {
    Bytes payload;
    rlp::encode(payload, m.request_id);
    rlp::encode(payload, view(m.target));
    rlp::encode(payload, m.count);
    return frame_of(DhtMessageType::kFindNodes, payload);
}

Bytes encode(const Nodes& m) {
    Bytes records;
    for (const NodeRecord& n : m.nodes) {
        Bytes rec;
        rlp::encode(rec, view(n.id));
        rlp::encode(rec, n.address);
        rlp::encode(rec, uint64_t{n.radius_bits});
        rlp::encode_header(records, {true, rec.size()});
        records += rec;
    }
    Bytes payload;
    rlp::encode(payload, m.request_id);
    rlp::encode_header(payload, {true, records.size()});
    payload += records;
    return frame_of(DhtMessageType::kNodes, payload);
}

DhtResult<Ping> decode_ping(ByteView frame) {
    auto m = decode_id_radius(frame, DhtMessageType::kPing);
    if (!m) return tl::unexpected{m.error()};
    return Ping{m->request_id, m->id, m->radius_bits};
}

DhtResult<Pong> decode_pong(ByteView frame) {
    auto m = decode_id_radius(frame, DhtMessageType::kPong);
    if (!m) return tl::unexpected{m.error()};
    return Pong{m->request_id, m->id, m->radius_bits};
}

DhtResult<FindNodes> decode_find_nodes(ByteView frame) {
    auto body = body_of(frame, DhtMessageType::kFindNodes);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    FindNodes m;
    auto req = uint_of(in);
    if (!req) return tl::unexpected{req.error()};
    m.request_id = *req;
    auto target = id_of(in);
    if (!target) return tl::unexpected{target.error()};
    m.target = *target;
    auto count = uint_of(in);
    if (!count) return tl::unexpected{count.error()};
    if (*count == 0 || *count > kMaxNodesPerReply) return tl::unexpected{DhtWireError::kBadCount};
    m.count = *count;
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

DhtResult<Nodes> decode_nodes(ByteView frame) {
    auto body = body_of(frame, DhtMessageType::kNodes);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    Nodes m;
    auto req = uint_of(in);
    if (!req) return tl::unexpected{req.error()};
    m.request_id = *req;
    auto list = rlp::decode_list(in);
    if (!list) return tl::unexpected{DhtWireError::kMalformed};
    for (ByteView records = *list; !records.empty();) {
        // The cap is checked before the record is decoded or stored.
        if (m.nodes.size() >= kMaxNodesPerReply) return tl::unexpected{DhtWireError::kTooManyNodes};
        auto r = decode_record(records);
        if (!r) return tl::unexpected{r.error()};
        m.nodes.push_back(*r);
    }
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

}  // namespace carousel::proto
