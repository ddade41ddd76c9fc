// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "prefix_scenario.hpp"

#include <set>

#include <carousel/state/account.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::sim {

ServedChain::ServedChain(const state::GeneratorConfig& config, int blocks,
                         const std::function<void(uint64_t)>& progress) {
    generator = std::make_unique<state::ChainGenerator>(config, nodes, code);
    if (!generator->genesis(progress)) return;
    roots.push_back(generator->root());
    for (int b = 0; b < blocks; ++b) {
        if (!generator->next_block()) return;
        roots.push_back(generator->root());
    }
    ok = true;
}

StateCheck check_state(trie::NodeStore& nodes, const state::CodeStore& code, const Hash& root) {
    StateCheck out;
    bool complete = true;
    std::set<Hash> codes_seen;  // each blob counts once, however many accounts share it
    trie::Trie accounts{&nodes, root};
    const bool readable =
        accounts
            .for_each([&](ByteView key, ByteView value) {
                ++out.accounts;
                out.raw_leaf_bytes += key.size() + value.size();
                ByteView in = value;
                const auto a = state::decode_account(in);
                if (!a) {
                    complete = false;
                    return;
                }
                if (a->code_hash != state::kEmptyCodeHash && codes_seen.insert(a->code_hash).second) {
                    if (const auto blob = code.get_code(a->code_hash)) {
                        out.raw_leaf_bytes += blob->size();
                    } else {
                        complete = false;
                    }
                }
                if (a->storage_root == trie::kEmptyRoot) return;
                trie::Trie storage{&nodes, a->storage_root};
                complete = storage.for_each([&](ByteView k, ByteView v) { out.raw_leaf_bytes += k.size() + v.size(); })
                               .has_value() &&
                           complete;
            })
            .has_value();
    out.complete = readable && complete;
    return out;
}

PrefixScenarioResult run_prefix_scenario(const PrefixScenarioConfig& config,
                                         const std::function<void(uint64_t)>& on_generate,
                                         const std::function<void(const prefix::SyncProgress&)>& on_step) {
    using Clock = std::chrono::steady_clock;
    PrefixScenarioResult result;
    const ServedChain chain{config.chain, 0, on_generate};
    if (!chain.ok) return result;
    result.generated = true;
    const Hash root = chain.roots.front();
    result.root = root;

    // Servers and client on a simulated network.
    net::LocalNet network;
    std::vector<std::unique_ptr<prefix::ChunkServer>> servers;
    trie::MemoryNodeStore client_nodes;
    state::MemoryCodeStore client_code;
    prefix::PrefixSyncOptions sync_options;
    sync_options.leaf_mode = config.leaf_mode;
    prefix::PrefixSync client{client_nodes, client_code, root, sync_options};
    const net::PeerId client_id = network.add(client, {0, config.client_downlink});
    for (int i = 0; i < config.servers; ++i) {
        servers.push_back(std::make_unique<prefix::ChunkServer>(chain.nodes, &chain.code, [root] { return root; }));
        const net::PeerId id = network.add(*servers.back(), {config.server_uplink, 0});
        network.connect(client_id, id, {config.latency});
    }

    const auto wall0 = Clock::now();
    while (!client.done() && network.now() <= config.give_up_after) {
        (void)network.run_until([&] { return client.done(); }, network.now() + std::chrono::milliseconds{250});
        if (on_step) on_step(client.progress());
    }
    result.wall_seconds = std::chrono::duration<double>(Clock::now() - wall0).count();
    result.simulated_seconds = std::chrono::duration<double>(network.now()).count();
    result.done = client.done();
    result.progress = client.progress();
    result.peers = client.peers();

    // The client's stores hold the whole state: every account, storage trie and code blob.
    result.state = check_state(client_nodes, client_code, root);
    result.verified =
        result.done && result.state.complete && result.state.accounts == chain.generator->stats().accounts;
    return result;
}

}  // namespace carousel::sim
