// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "node_endpoint.hpp"

#include <limits>

#include <carousel/core/rlp.hpp>

namespace carousel::dht {
namespace {

Bytes uint_item(uint64_t v) {
    Bytes out;
    rlp::encode(out, v);
    return out;
}

std::optional<proto::Address> address_of(const NodeRecord& record, std::string_view port_key) {
    const auto ip = record.string_value("ip");
    const auto port = record.uint_value(port_key);
    if (!ip || ip->size() != 4 || !port || *port == 0 || *port > std::numeric_limits<uint16_t>::max()) {
        return std::nullopt;
    }
    proto::Address a;
    std::copy(ip->begin(), ip->end(), a.ip.begin());
    a.port = static_cast<uint16_t>(*port);
    return a;
}

}  // namespace

tl::expected<NodeRecord, EnrError> make_node_record(const KeyPair& key, uint64_t seq, const NodeEndpoint& endpoint) {
    NodeRecord::Pairs pairs;
    Bytes ip;
    rlp::encode(ip, view(endpoint.ip));
    pairs["ip"] = ip;
    if (endpoint.udp_port != 0) pairs["udp"] = uint_item(endpoint.udp_port);
    if (endpoint.tcp_port != 0) pairs["tcp"] = uint_item(endpoint.tcp_port);
    pairs["rad"] = uint_item(endpoint.radius.bits);
    return NodeRecord::sign(seq, std::move(pairs), key);
}

std::optional<proto::Address> udp_address(const NodeRecord& record) { return address_of(record, "udp"); }
std::optional<proto::Address> tcp_address(const NodeRecord& record) { return address_of(record, "tcp"); }

std::optional<Radius> radius_of(const NodeRecord& record) {
    const auto bits = record.uint_value("rad");
    if (!bits || *bits > 256) return std::nullopt;
    return Radius{static_cast<unsigned>(*bits)};
}

}  // namespace carousel::dht
