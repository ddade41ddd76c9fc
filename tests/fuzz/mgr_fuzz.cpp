// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// libFuzzer harness: the DHT and Merry-Go-Round message handlers of a seeded MgrNode (its Dht
// takes PING/PONG/FINDNODES/NODES, its stores OFFER/ACCEPT/CONTENT, GetChunks, GetDiff, GetCode,
// GetBareStorage) on frames from fuzzed peers. The input is a sequence of
// [u8 op][u16 big-endian length][frame]: op's low two bits name one of four peers, bit 2 connects
// it first, bit 3 disconnects it after, bit 4 moves the clock on a second and fires the timer.
// Whatever the node sends is drained and dropped; at the end a timer far ahead. Any crash or
// sanitizer report is a finding.
#include <chrono>
#include <memory>
#include <set>
#include <vector>

#include <carousel/core/keccak.hpp>
#include <carousel/mgr/mgr_node.hpp>
#include <carousel/state/chain_generator.hpp>

using namespace carousel;

namespace {

struct World {
    std::unique_ptr<state::ChainGenerator> gen;
    Hash root{};
    std::vector<Bytes> code;
    mgr::NodeOptions options;
    World() {
        state::GeneratorConfig cfg;
        cfg.seed = 2;
        cfg.accounts = 120;
        cfg.max_contract_slots = 30;
        gen = std::make_unique<state::ChainGenerator>(cfg);
        (void)gen->genesis();
        root = gen->root();
        gen->for_each_account([&](const Hash&, const state::Account& a, std::span<const std::pair<Hash, Bytes>>) {
            if (a.code_hash == state::kEmptyCodeHash) return;
            if (auto c = gen->code_store().get_code(a.code_hash)) code.push_back(std::move(*c));
        });
        options.region_bits = 254;
        options.epoch_length = 4;
    }
};

World& world() {
    static World w;
    return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    World& w = world();
    const Hash root = w.root;
    mgr::MgrNode node{dht::Contact{keccak256(Bytes{1}), 0, dht::Radius{254}}, w.options,
                      [root](uint64_t n) -> std::optional<Hash> {
                          if (n != 0) return std::nullopt;
                          return root;
                      }};
    if (!node.seed(w.gen->node_store(), 0, w.root, w.code)) return 0;
    proto::Time now{std::chrono::seconds{1}};
    std::set<proto::PeerId> connected;
    auto drain = [&] {
        (void)node.take_outbox();
        for (const auto& d : node.take_disconnects()) {
            if (connected.erase(d.peer) > 0) node.on_disconnect(d.peer, now);
        }
    };
    ByteView in{data, size};
    while (in.size() >= 3) {
        const uint8_t op = in[0];
        const std::size_t n = std::min<std::size_t>(in.size() - 3, (std::size_t{in[1]} << 8) | in[2]);
        const ByteView frame = in.substr(3, n);
        in.remove_prefix(3 + n);
        const proto::PeerId peer = 1 + (op & 3);
        if ((op & 4) != 0 && connected.insert(peer).second) node.on_connect(peer, now);
        drain();
        if (!frame.empty() && connected.contains(peer)) node.on_frame(peer, frame, now);
        drain();
        if ((op & 8) != 0 && connected.erase(peer) > 0) node.on_disconnect(peer, now);
        if ((op & 16) != 0) {
            now += std::chrono::seconds{1};
            node.on_timer(now);
        }
        drain();
    }
    node.on_timer(now + std::chrono::seconds{1000});
    drain();
    return 0;
}
