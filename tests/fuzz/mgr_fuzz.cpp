// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// libFuzzer harness: the Merry-Go-Round message handlers of a seeded MgrNode (OFFER/ACCEPT/CONTENT,
// GetChunks, GetDiff, GetCode, GetBareStorage, GetItems) on frames from fuzzed peers. The node and four peers
// run on LocalNet, each a dht::Overlay node: a peer reaches the node over an authenticated connection
// (the handshake is real; frames before it are the Overlay's, fuzzed by handshake_fuzz). The input
// is a sequence of [u8 op][u16 big-endian length][frame]: op's low two bits name the peer that sends
// the frame, bit 3 makes it close its connection after, bit 4 moves the clock on a second. What the
// node sends goes to the peers, which record it. Any crash or sanitizer report is a finding.
#include <chrono>
#include <memory>
#include <vector>

#include <carousel/core/keccak.hpp>
#include <carousel/mgr/mgr_node.hpp>
#include <carousel/mgr/overlay_testing.hpp>
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
    using namespace std::chrono_literals;
    World& w = world();
    const Hash root = w.root;
    mgr::testing::OverlayNet onet{1ms};
    mgr::MgrNode node{mgr::testing::test_key(1), onet.next_endpoint(254), w.options,
                      [root](uint64_t n) -> std::optional<Hash> {
                          if (n != 0) return std::nullopt;
                          return root;
                      }};
    if (!node.seed(w.gen->node_store(), 0, w.root, w.code)) return 0;
    (void)onet.add(node);
    std::vector<std::unique_ptr<mgr::testing::ScriptedNode>> peers;
    std::vector<proto::PeerId> peer_ids;
    for (uint64_t i = 0; i < 4; ++i) {
        peers.push_back(
            std::make_unique<mgr::testing::ScriptedNode>(mgr::testing::test_key(10 + i), onet.next_endpoint(254)));
        peer_ids.push_back(onet.add(*peers.back()));
    }
    ByteView in{data, size};
    while (in.size() >= 3) {
        const uint8_t op = in[0];
        const std::size_t n = std::min<std::size_t>(in.size() - 3, (std::size_t{in[1]} << 8) | in[2]);
        const Bytes frame{in.substr(3, n)};
        in.remove_prefix(3 + n);
        mgr::testing::ScriptedNode& peer = *peers[op & 3];
        onet.net.post(peer_ids[op & 3], [&] { peer.send(node.record(), frame, onet.net.now()); });
        onet.run_for(20ms);
        if ((op & 8) != 0) {
            onet.net.post(peer_ids[op & 3],
                          [&] { (void)peer.overlay().disconnect(node.id(), "fuzz", onet.net.now()); });
        }
        onet.run_for((op & 16) != 0 ? 1s : 1ms);
    }
    onet.run_for(1000s);
    return 0;
}
