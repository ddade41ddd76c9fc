// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_scenario.hpp"

#include <algorithm>
#include <memory>
#include <set>

#include <carousel/core/keccak.hpp>
#include <carousel/mgr/bridge.hpp>
#include <carousel/mgr/partial_trie.hpp>
#include <carousel/net/local_net.hpp>
#include <carousel/proto/messages.hpp>
#include <carousel/proto/mgr_messages.hpp>
#include <carousel/state/account.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::sim {

namespace {

    using proto::PeerId;
    using proto::Time;

    // A node id drawn from the seed.
    dht::NodeId node_id(uint64_t seed, uint64_t i) {
        const uint8_t in[16] = {static_cast<uint8_t>(seed >> 56), static_cast<uint8_t>(seed >> 48),
                                static_cast<uint8_t>(seed >> 40), static_cast<uint8_t>(seed >> 32),
                                static_cast<uint8_t>(seed >> 24), static_cast<uint8_t>(seed >> 16),
                                static_cast<uint8_t>(seed >> 8),  static_cast<uint8_t>(seed),
                                static_cast<uint8_t>(i >> 56),    static_cast<uint8_t>(i >> 48),
                                static_cast<uint8_t>(i >> 40),    static_cast<uint8_t>(i >> 32),
                                static_cast<uint8_t>(i >> 24),    static_cast<uint8_t>(i >> 16),
                                static_cast<uint8_t>(i >> 8),     static_cast<uint8_t>(i)};
        return keccak256(ByteView{in, sizeof in});
    }

    // A liar's answer: a leaf value changed, or a diff with a change left out (or one added).
    void lie(Bytes& frame) {
        if (frame.empty()) return;
        if (frame[0] == static_cast<uint8_t>(proto::MessageType::kChunkData)) {
            auto data = proto::decode_chunk_data(frame);
            if (!data) return;
            for (auto& e : data->entries) {
                if (!e.values.empty()) e.values[e.values.size() / 2].back() ^= 0x01;
                if (!e.nodes.empty()) e.nodes.back().back() ^= 0x01;
            }
            frame = proto::encode(*data);
        } else if (frame[0] == static_cast<uint8_t>(proto::MessageType::kDiffData)) {
            auto data = proto::decode_diff_data(frame);
            if (!data || data->error) return;
            if (!data->keys.empty()) {
                data->keys.pop_back();
                data->values.pop_back();
            } else {
                Hash fake{};
                fake.fill(0x5a);
                data->keys.push_back(fake);
                data->values.push_back(Bytes{0x01});
            }
            frame = proto::encode(*data);
        } else if (frame[0] == static_cast<uint8_t>(proto::MessageType::kBareStorage)) {
            // Bare leaves: one value altered, and one owner's part left out.
            auto data = proto::decode_bare_storage(frame);
            if (!data || data->error) return;
            for (auto& e : data->entries) {
                if (!e.values.empty()) {
                    e.values[e.values.size() / 2].back() ^= 0x01;
                    break;
                }
            }
            if (data->entries.size() > 1) data->entries.pop_back();
            frame = proto::encode(*data);
        } else if (frame[0] == static_cast<uint8_t>(proto::MessageType::kCodeData)) {
            auto data = proto::decode_code_data(frame);
            if (!data) return;
            for (auto& c : data->codes) {
                if (!c.empty()) c.back() ^= 0x01;
            }
            frame = proto::encode(*data);
        }
    }

    constexpr std::size_t kLeafChecksPerStore = 64;

    // Whether one node's store holds exactly the true partial tries of its region at `root`.
    bool store_matches(const mgr::EpochStore& store, const trie::NodeStore& truth, const Hash& root,
                       const std::map<Hash, Hash>& true_owners) {
        if (store.epoch_root() != root) return false;
        const prefix::PathRange range = mgr::path_range(store.region());
        auto held = mgr::leaves_in(store, root, range);
        auto want = mgr::leaves_in(truth, root, range);
        if (!held || !want || *held != *want) return false;
        const auto owners = store.owners(root);
        if (owners.size() != true_owners.size()) return false;
        std::size_t compared = 0;
        for (const auto& [account, storage_root] : owners) {
            const auto it = true_owners.find(account);
            if (it == true_owners.end() || it->second != storage_root) return false;
            // Every owner's root is compared; the leaves of a sample of tries (a different one at each
            // boundary), to keep the cost of the check in proportion at 50k accounts.
            if (++compared > kLeafChecksPerStore && (account[0] ^ root[0]) % 8 != 0) continue;
            const prefix::PathRange srange = mgr::path_range(mgr::storage_block(store.region(), account));
            auto s_held = mgr::leaves_in(store, storage_root, srange);
            auto s_want = mgr::leaves_in(truth, storage_root, srange);
            if (!s_held || !s_want || *s_held != *s_want) return false;
        }
        return true;
    }

}  // namespace

MgrScenarioResult run_mgr_scenario(const MgrScenarioConfig& config) {
    MgrScenarioResult result;
    state::ChainGenerator chain(config.chain);
    if (auto g = chain.genesis(); !g) {
        result.failure = "genesis failed";
        return result;
    }
    std::vector<Hash> roots{chain.root()};
    uint64_t head = 0;
    const mgr::HeaderSource headers = [&roots](uint64_t n) -> std::optional<Hash> {
        if (n >= roots.size()) return std::nullopt;
        return roots[n];
    };

    // Code of the genesis, for the nodes covering its hashes.
    std::vector<Bytes> genesis_code;
    {
        std::set<Hash> seen;
        chain.for_each_account([&](const Hash&, const state::Account& a, std::span<const std::pair<Hash, Bytes>>) {
            if (a.code_hash == state::kEmptyCodeHash || !seen.insert(a.code_hash).second) return;
            if (auto code = chain.code_store().get_code(a.code_hash)) genesis_code.push_back(std::move(*code));
        });
    }

    net::LocalNet net;
    mgr::NodeOptions node_options;
    node_options.region_bits = config.region_bits;
    node_options.epoch_length = config.epoch_length;
    node_options.bare_leaves_max = config.bare_leaves_max;
    std::vector<std::unique_ptr<mgr::MgrNode>> nodes;
    std::vector<PeerId> node_peers;
    for (std::size_t i = 0; i < config.nodes; ++i) {
        nodes.push_back(std::make_unique<mgr::MgrNode>(
            dht::Contact{node_id(config.seed, i), 0, dht::Radius{config.radius_bits}}, node_options, headers));
        if (auto s = nodes.back()->seed(chain.node_store(), 0, roots[0], genesis_code); !s) {
            result.failure = "seeding a node failed: " + s.error();
            return result;
        }
        node_peers.push_back(net.add(*nodes.back(), {config.node_bandwidth, config.node_bandwidth}));
    }
    mgr::MgrNode bridge(dht::Contact{node_id(config.seed, 1u << 20), 0, dht::Radius{0}}, node_options, headers);
    const PeerId bridge_peer = net.add(bridge, {0, 0});
    mgr::SyncOptions sync_options;
    sync_options.region_bits = config.region_bits;
    sync_options.epoch_length = config.epoch_length;
    mgr::MgrSync client(dht::Contact{node_id(config.seed, 1u << 21), 0, dht::Radius{0}}, sync_options,
                        mgr::ChainView{[&head] { return head; }, headers});
    const PeerId client_peer = net.add(client, {config.client_bandwidth, config.client_bandwidth});

    const net::LinkSettings link{config.latency};
    for (std::size_t i = 0; i < node_peers.size(); ++i) {
        net.connect(bridge_peer, node_peers[i], link);
        for (std::size_t j = i + 1; j < node_peers.size(); ++j) net.connect(node_peers[i], node_peers[j], link);
    }

    // Faults, drawn from the seed.
    state::Rng rng(config.seed, 0x5ce7a);
    std::vector<std::size_t> order(nodes.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);
    const auto count = [&](double share) { return static_cast<std::size_t>(share * static_cast<double>(nodes.size()) + 0.5); };
    std::set<PeerId> liars;
    std::set<PeerId> stale;
    std::vector<PeerId> leaving;
    std::size_t next = 0;
    for (std::size_t k = 0; k < count(config.liar_share) && next < order.size(); ++k) liars.insert(node_peers[order[next++]]);
    for (std::size_t k = 0; k < count(config.stale_share) && next < order.size(); ++k) stale.insert(node_peers[order[next++]]);
    for (std::size_t k = 0; k < count(config.offline_share) && next < order.size(); ++k) leaving.push_back(node_peers[order[next++]]);
    net.set_frame_hook([&](PeerId from, PeerId to, Bytes& frame) {
        if (liars.contains(from) && to == client_peer && !frame.empty() &&
            (config.lies_in.empty() || config.lies_in.contains(static_cast<proto::MessageType>(frame[0])))) {
            lie(frame);
        }
        if (stale.contains(to) && !frame.empty() && frame[0] == static_cast<uint8_t>(proto::MessageType::kContent)) {
            frame.clear();
        }
    });

    const auto honest = [&](std::size_t i) {
        const PeerId p = node_peers[i];
        return !liars.contains(p) && !stale.contains(p) && net.online(p);
    };
    bool left = false;
    Time sync_start{0};
    uint64_t finish_block = 0;
    for (uint64_t b = 1; b <= config.max_blocks; ++b) {
        net.run_until(Time{config.block_time * static_cast<int64_t>(b)});
        // The previous block has had a block time to spread: check the stores at a boundary.
        if (head > 0 && head % config.epoch_length == 0) {
            std::map<Hash, Hash> true_owners;
            chain.for_each_account([&](const Hash& key, const state::Account& a, std::span<const std::pair<Hash, Bytes>>) {
                if (a.storage_root != trie::kEmptyRoot) true_owners[key] = a.storage_root;
            });
            for (std::size_t i = 0; i < nodes.size(); ++i) {
                if (!honest(i)) continue;
                for (const auto& store : nodes[i]->stores()) {
                    ++result.boundary_checks;
                    if (!store_matches(*store, chain.node_store(), roots[head], true_owners)) ++result.store_mismatches;
                }
            }
        }
        if (b == config.client_start_block + 1) {
            result.sync_started_block = head;
            sync_start = net.now();
            for (PeerId p : node_peers) net.connect(client_peer, p, link);
        }
        if (!left && result.sync_started_block > 0 && client.progress() >= 1.0 / 3.0) {
            left = true;
            for (PeerId p : leaving) net.set_online(p, false);
        }
        if (result.synced && head > result.sync_finished_block) {
            // The client had a block time to follow the last block.
            if (client.verified_number() == head) {
                ++result.blocks_followed;
            } else {
                ++result.blocks_missed;
            }
        }
        if (client.synced() && !result.synced) {
            result.synced = true;
            result.sync_finished_block = head;
            result.sync_seconds = std::chrono::duration<double>(client.synced_at() - sync_start).count();
            result.boundaries_crossed = head / config.epoch_length - result.sync_started_block / config.epoch_length;
            result.client_bytes_received = client.stats().bytes_received;
            finish_block = head + config.follow_blocks;
        }
        if (result.synced && head >= finish_block) break;
        if (!client.failure().empty()) {
            result.failure = client.failure();
            break;
        }

        // Block b.
        const Hash old_root = roots.back();
        auto diff = chain.next_block();
        if (!diff) {
            result.failure = "the generator failed";
            return result;
        }
        roots.push_back(chain.root());
        head = b;
        auto items = mgr::build_region_items(chain.node_store(), b, old_root, roots.back(), *diff,
                                             mgr::tile(config.region_bits));
        if (!items) {
            result.failure = "the bridge failed to build items";
            return result;
        }
        net.post(bridge_peer, [&bridge, &net, items = std::move(*items), code = diff->code]() {
            bridge.publish(items, code, net.now());
        });
        if (config.on_block) config.on_block(client.progress(), b, net.now());
    }
    result.blocks = head;
    if (client.verified_number()) {
        result.verified_block = *client.verified_number();
        result.verified_root = client.state_root();
        result.chain_root = roots[result.verified_block];
        if (result.verified_root != result.chain_root && result.failure.empty()) result.failure = "client root differs from the chain";
    } else if (result.failure.empty()) {
        result.failure = "the client did not sync within max_blocks";
    }
    result.client = client.stats();
    result.accounts = client.accounts();
    result.slots = client.slots();
    result.codes = client.codes();
    // Raw state: every leaf (32-byte key and its value) and every code blob, at the verified block's
    // contents as the client holds them.
    result.raw_state_bytes = client.raw_bytes();
    result.bandwidth_floor_seconds =
        config.client_bandwidth == 0 ? 0 : static_cast<double>(result.raw_state_bytes) / static_cast<double>(config.client_bandwidth);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        result.gossip_bytes += net.metrics(node_peers[i]).received.of_type(static_cast<uint8_t>(proto::MessageType::kContent)).bytes;
        for (const auto& store : nodes[i]->stores()) {
            result.node_bytes += store->byte_size();
            if (honest(i)) result.items_rejected += nodes[i]->stats().items_rejected;
        }
    }
    result.gossip_bytes_per_node_per_block =
        head == 0 ? 0 : static_cast<double>(result.gossip_bytes) / static_cast<double>(nodes.size()) / static_cast<double>(head);
    return result;
}

}  // namespace carousel::sim
