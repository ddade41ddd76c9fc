// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "demo_prefix_sync.hpp"

#include <chrono>
#include <memory>

#include <carousel/core/hex.hpp>
#include <carousel/net/local_net.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/prefix/prefix_sync.hpp>
#include <carousel/state/account.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/trie/trie.hpp>

#include "progress.hpp"
#include "sync_report.hpp"

namespace carousel::app {

bool run_prefix_sync_demo(const PrefixSyncDemoOptions& o, nlohmann::json& summary) {
    using Clock = std::chrono::steady_clock;
    // The served state.
    trie::MemoryNodeStore server_nodes;
    state::MemoryCodeStore server_code;
    state::GeneratorConfig cfg;
    cfg.seed = o.seed;
    cfg.accounts = o.accounts;
    state::ChainGenerator gen{cfg, server_nodes, server_code};
    Progress gen_progress{"generating the state", o.accounts, o.show_progress};
    if (!gen.genesis([&](uint64_t done) { gen_progress.update(done); })) return false;
    gen_progress.finish();
    const Hash root = gen.root();
    const auto stats = gen.stats();

    // Servers and client on a simulated network.
    net::LocalNet network;
    std::vector<std::unique_ptr<prefix::ChunkServer>> servers;
    trie::MemoryNodeStore client_nodes;
    state::MemoryCodeStore client_code;
    prefix::PrefixSyncOptions sync_options;
    sync_options.leaf_mode = o.leaf_mode;
    prefix::PrefixSync client{client_nodes, client_code, root, sync_options};
    const net::PeerId client_id = network.add(client, {0, o.client_downlink_bytes_per_second});
    for (int i = 0; i < o.servers; ++i) {
        servers.push_back(std::make_unique<prefix::ChunkServer>(server_nodes, &server_code, [root] { return root; }));
        const net::PeerId id = network.add(*servers.back(), {o.server_uplink_bytes_per_second, 0});
        network.connect(client_id, id, {std::chrono::milliseconds{o.latency_ms}});
    }

    constexpr uint64_t kScale = 1'000'000;
    Progress sync_progress{o.leaf_mode ? "prefix sync (leaves)" : "prefix sync (sub-tries)", kScale, o.show_progress};
    const auto wall0 = Clock::now();
    while (!client.done()) {
        const bool moved =
            network.run_until([&] { return client.done(); }, network.now() + std::chrono::milliseconds{250});
        (void)moved;
        const auto p = client.progress();
        // Account key space held, weighted with storage tries finished.
        const double storage = p.storage_tries == 0
                                   ? 1.0
                                   : static_cast<double>(p.storage_tries_done) / static_cast<double>(p.storage_tries);
        sync_progress.update(static_cast<uint64_t>(kScale * (0.5 * p.account_fraction + 0.5 * storage)));
        if (network.now() > std::chrono::hours{1}) break;  // a stuck sync must not hang the demo
    }
    sync_progress.finish();
    const double wall_s = std::chrono::duration<double>(Clock::now() - wall0).count();

    // Check: the client's stores hold the whole state (every account, storage trie and code), and
    // count its raw leaf bytes (key + value of every leaf, plus code) to set against the traffic.
    trie::Trie accounts{&client_nodes, root};
    uint64_t n = 0;
    uint64_t raw = stats.code_bytes;
    bool complete = true;
    const bool readable =
        accounts
            .for_each([&](ByteView key, ByteView value) {
                ++n;
                raw += key.size() + value.size();
                ByteView in = value;
                auto a = state::decode_account(in);
                if (!a) {
                    complete = false;
                    return;
                }
                if (a->code_hash != state::kEmptyCodeHash && !client_code.get_code(a->code_hash)) {
                    complete = false;
                }
                if (a->storage_root == trie::kEmptyRoot) return;
                trie::Trie storage{&client_nodes, a->storage_root};
                complete = storage.for_each([&](ByteView k, ByteView v) { raw += k.size() + v.size(); }).has_value() &&
                           complete;
            })
            .has_value();
    const bool ok = client.done() && readable && complete && n == stats.accounts;

    const auto p = client.progress();
    const double sim_s = std::chrono::duration<double>(network.now()).count();
    summary = progress_json(p);
    summary["root"] = to_hex_prefixed(view(root));
    summary["verified"] = ok;
    summary["mode"] = o.leaf_mode ? "leaf" : "full";
    summary["servers"] = o.servers;
    summary["raw_leaf_bytes"] = raw;
    summary["simulated_seconds"] = sim_s;
    summary["wall_seconds"] = wall_s;
    summary["peers"] = peers_json(client.peers());
    return ok;
}

}  // namespace carousel::app
