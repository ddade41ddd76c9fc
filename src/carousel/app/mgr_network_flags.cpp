// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_network_flags.hpp"

#include <carousel/dht/node_endpoint.hpp>
#include <carousel/mgr/signed_header.hpp>

namespace carousel::app {

mgr::NodeOptions MgrNetworkFlags::node_options() const {
    mgr::NodeOptions o;
    o.region_bits = region_bits;
    o.epoch_length = epoch;
    o.overlay.connections.max_peers = max_peers;
    return o;
}

void add_network_flags(CLI::App& cmd, MgrNetworkFlags& flags) {
    cmd.add_option("--region-bits", flags.region_bits,
                   "gossip regions are blocks of 2^R keys (default 252: 16 regions); every process of a network "
                   "must use the same")
        ->check(CLI::Range(240u, 255u))
        ->option_text("R");
    cmd.add_option("--epoch", flags.epoch,
                   "epoch length in blocks: nodes keep the state at the last two multiples of it and the head "
                   "(default 64); every process of a network must use the same")
        ->check(CLI::Range(uint64_t{2}, uint64_t{1} << 20))
        ->option_text("E");
    cmd.add_option("--max-peers", flags.max_peers, "connections open at once (default 64)")
        ->check(CLI::Range(std::size_t{4}, std::size_t{4096}))
        ->option_text("N");
}

tl::expected<std::vector<dht::NodeRecord>, std::string> parse_bootnodes(const std::vector<std::string>& texts) {
    std::vector<dht::NodeRecord> out;
    for (const std::string& text : texts) {
        auto record = dht::NodeRecord::from_text(text);
        if (!record) {
            return tl::make_unexpected("--bootnode " + text.substr(0, 24) + (text.size() > 24 ? "..." : "") + ": " +
                                       std::string{dht::to_string(record.error())});
        }
        if (!dht::udp_address(*record)) {
            return tl::make_unexpected("--bootnode " + text.substr(0, 24) + "...: the record names no UDP address");
        }
        out.push_back(std::move(*record));
    }
    return out;
}

tl::expected<dht::PublicKey, std::string> parse_trusted_key(const std::string& text) {
    auto key = mgr::parse_public_key(text);
    if (!key) {
        return tl::make_unexpected("--trust-bridge " + text +
                                   ": expected 0x and 66 hex digits of a compressed secp256k1 public key (`carousel "
                                   "bridge` prints it)");
    }
    return *key;
}

}  // namespace carousel::app
