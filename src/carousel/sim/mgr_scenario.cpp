// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_scenario.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include <carousel/core/keccak.hpp>
#include <carousel/mgr/bridge.hpp>
#include <carousel/mgr/partial_trie.hpp>
#include <carousel/net/local_net.hpp>
#include <carousel/proto/mgr_messages.hpp>
#include <carousel/proto/prefix_messages.hpp>
#include <carousel/state/account.hpp>
#include <carousel/trie/leaf_range.hpp>
#include <carousel/trie/proof.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::sim {

namespace {

using proto::PeerId;
using proto::Time;

// A node id drawn from the seed.
dht::NodeId node_id(uint64_t seed, uint64_t i) {
    const uint8_t in[16] = {
        static_cast<uint8_t>(seed >> 56), static_cast<uint8_t>(seed >> 48), static_cast<uint8_t>(seed >> 40),
        static_cast<uint8_t>(seed >> 32), static_cast<uint8_t>(seed >> 24), static_cast<uint8_t>(seed >> 16),
        static_cast<uint8_t>(seed >> 8),  static_cast<uint8_t>(seed),       static_cast<uint8_t>(i >> 56),
        static_cast<uint8_t>(i >> 48),    static_cast<uint8_t>(i >> 40),    static_cast<uint8_t>(i >> 32),
        static_cast<uint8_t>(i >> 24),    static_cast<uint8_t>(i >> 16),    static_cast<uint8_t>(i >> 8),
        static_cast<uint8_t>(i)};
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
                   const std::map<Hash, Hash>& present_owners) {
    if (store.epoch_root() != root) return false;
    const trie::PathRange range = mgr::path_range(store.region());
    auto held = mgr::leaves_in(store, root, range);
    auto want = mgr::leaves_in(truth, root, range);
    if (!held || !want || *held != *want) return false;
    const auto owners = store.owners(root);
    if (owners.size() != present_owners.size()) return false;
    std::size_t compared = 0;
    for (const auto& [account, storage_root] : owners) {
        const auto it = present_owners.find(account);
        if (it == present_owners.end() || it->second != storage_root) return false;
        // Every owner's root is compared; the leaves of a sample of tries (a different one at each
        // boundary), to keep the cost of the check in proportion at 50k accounts.
        if (++compared > kLeafChecksPerStore && (account[0] ^ root[0]) % 8 != 0) continue;
        const trie::PathRange srange = mgr::path_range(mgr::storage_region(store.region(), account));
        auto s_held = mgr::leaves_in(store, storage_root, srange);
        auto s_want = mgr::leaves_in(truth, storage_root, srange);
        if (!s_held || !s_want || *s_held != *s_want) return false;
    }
    return true;
}

// Asks joined and grown nodes for what they should serve and checks the answers against the trusted
// roots: leaves of their region at a boundary root (GetChunks, leaf mode) and the diff from the
// previous boundary (GetDiff, applied to the true leaves there). A node is named by a function
// returning its counters (the result vectors grow during the run).
class Prober final : public proto::Endpoint {
  public:
    using Target = std::function<ProbeCounts&()>;
    enum class Want : uint8_t {
        kServe,           // a verified answer: probes_ok, else probes_failed
        kRefuse,          // a region being filled: 0x0 (refused_while_filling, else served_while_filling)
        kServeWhileFill,  // an old region of a growing node: verified answers count in `also`
    };

    void chunks(PeerId to, Target target, const Hash& root, const mgr::Region& region, Want want = Want::kServe,
                std::function<void()> also = {}) {
        Expect x{std::move(target), false, root, region.first, mgr::last_key(region), {}, want, std::move(also)};
        proto::GetChunks get;
        get.request_id = next_id_++;
        get.root = root;
        get.prefixes = {nibbles(x.origin), nibbles(x.limit)};
        get.is_range = true;
        get.max_size = 8 * 1024 * 1024;
        get.flags = proto::kFlagLeaves;
        expect_.emplace(get.request_id, std::move(x));
        send(to, proto::encode(get));
    }
    void diff(PeerId to, Target target, const Hash& from_root, const Hash& to_root, const mgr::Region& region,
              mgr::Leaves base) {
        Expect x{std::move(target), true, to_root, region.first, mgr::last_key(region), {}, Want::kServe, {}};
        x.base.insert(base.begin(), base.end());
        proto::GetDiff get{next_id_++, from_root, to_root, nibbles(x.origin), nibbles(x.limit)};
        expect_.emplace(get.request_id, std::move(x));
        send(to, proto::encode(get));
    }

    void on_frame(PeerId, ByteView frame, Time) override {
        if (frame.empty()) return;
        if (frame[0] == static_cast<uint8_t>(proto::MessageType::kChunkData)) {
            auto d = proto::decode_chunk_data(frame);
            if (!d) return;
            const auto x = take(d->request_id);
            if (!x) return;
            ProbeCounts& out = x->target();
            if (x->want == Want::kRefuse) {
                const bool refused = d->entries.size() == 1 && d->entries[0].error == proto::ChunkError::kUnknownRoot;
                ++(refused ? out.refused_while_filling : out.served_while_filling);
                return;
            }
            bool ok = d->entries.size() == 1 && !d->entries[0].error && d->entries[0].leaf_mode;
            if (ok) {
                const auto& e = d->entries[0];
                ok = trie::verify_leaf_range(x->root, view(x->origin), view(x->limit), e.keys, e.values, e.proof,
                                             e.stop_path.has_value())
                         .has_value();
            }
            if (ok && x->want == Want::kServeWhileFill) {
                if (x->also) x->also();
                return;
            }
            ++(ok ? out.probes_ok : out.probes_failed);
        } else if (frame[0] == static_cast<uint8_t>(proto::MessageType::kDiffData)) {
            auto d = proto::decode_diff_data(frame);
            if (!d) return;
            auto x = take(d->request_id);
            if (!x) return;
            bool ok = !d->error && d->keys.size() == d->values.size();
            for (std::size_t i = 0; ok && i < d->keys.size(); ++i) {
                const Hash& k = d->keys[i];
                ok = !(k < x->origin) && !(x->limit < k) && (i == 0 || d->keys[i - 1] < k);
                if (!ok) break;
                if (d->values[i].empty()) {
                    x->base.erase(k);
                } else {
                    x->base[k] = d->values[i];
                }
            }
            if (ok) {
                std::vector<Bytes> keys;
                std::vector<Bytes> values;
                for (const auto& [k, v] : x->base) {
                    keys.emplace_back(ByteView{k.data(), k.size()});
                    values.push_back(v);
                }
                ok = trie::verify_bounded_range_proof(x->root, view(x->origin), view(x->limit), keys, values, d->proof)
                         .has_value();
            }
            ProbeCounts& out = x->target();
            ++(ok ? out.probes_ok : out.probes_failed);
            if (ok) ++out.diff_probes_ok;
        }
        // Anything else (the nodes' DHT PINGs) is ignored: the prober is not a DHT node.
    }

  private:
    struct Expect {
        Target target;
        bool diff{false};
        Hash root{};
        Hash origin{};
        Hash limit{};
        std::map<Hash, Bytes> base;
        Want want{Want::kServe};
        std::function<void()> also;
    };
    static ByteView view(const Hash& h) { return ByteView{h.data(), h.size()}; }
    static Nibbles nibbles(const Hash& h) { return unpack_nibbles(view(h)); }
    std::optional<Expect> take(uint64_t id) {
        const auto it = expect_.find(id);
        if (it == expect_.end()) return std::nullopt;
        Expect x = std::move(it->second);
        expect_.erase(it);
        return x;
    }
    std::map<uint64_t, Expect> expect_;
    uint64_t next_id_{1};
};

// The fields of `out` that node `n`'s record `s` of a fill episode (its join or growth) gives.
void record_fill(const mgr::MgrNode& n, const mgr::FillRecord& s, FillResult& out) {
    out.filled = s.filled_at.has_value() && !n.filling();
    out.filled_number = s.filled_number;
    if (s.filled_at) out.fill_seconds = std::chrono::duration<double>(*s.filled_at - s.started_at).count();
    out.fill_bytes = s.fill.bytes_received;
    out.fill_requests = s.fill.chunk_requests + s.fill.code_requests;
    out.store_bytes = s.store_bytes;
    out.code_bytes = s.fill.code_bytes;
    out.fills = s.fills;
    out.restarts = s.restarts;
    out.refills = s.refills;
    out.rejected_answers = s.fill.rejected_answers;
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
    const auto genesis_owners = mgr::owners_of(chain.node_store(), roots[0]);
    if (!genesis_owners) {
        result.failure = "reading the genesis owners failed";
        return result;
    }
    for (std::size_t i = 0; i < config.nodes; ++i) {
        nodes.push_back(std::make_unique<mgr::MgrNode>(
            dht::Contact{node_id(config.seed, i), 0, dht::Radius{config.radius_bits}}, node_options, headers));
        node_peers.push_back(net.add(*nodes.back(), {config.node_bandwidth, config.node_bandwidth}));
    }
    mgr::NodeOptions bridge_options = node_options;
    bridge_options.origin_only = true;
    mgr::MgrNode bridge(dht::Contact{node_id(config.seed, 1u << 20), 0, dht::Radius{0}}, bridge_options, headers);
    const PeerId bridge_peer = net.add(bridge, {0, 0});
    mgr::MgrSyncOptions sync_options;
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
    // The network's genesis: once the nodes know each other (PING/PONG on connect), each grows its
    // radius over the blocks beside its own that no node covers (MgrNode::cover_gaps), then is seeded
    // with its regions of the genesis state.
    const Time settle = std::max<Time>(config.latency, std::chrono::milliseconds{1}) * 4;
    net.run_until(settle);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const PeerId p = node_peers[i];
        mgr::MgrNode* node = nodes[i].get();
        net.post(p, [node, &net] { (void)node->cover_gaps(net.now()); });
    }
    net.run_until(settle * 2);
    for (auto& node : nodes) {
        if (auto s = node->seed(chain.node_store(), 0, roots[0], *genesis_owners, genesis_code); !s) {
            result.failure = "seeding a node failed: " + s.error();
            return result;
        }
    }

    // Faults, drawn from the seed.
    state::Rng rng(config.seed, 0x5ce7a);
    std::vector<std::size_t> order(nodes.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);
    const auto count = [&](double share) {
        return static_cast<std::size_t>(share * static_cast<double>(nodes.size()) + 0.5);
    };
    std::set<PeerId> liars;
    std::set<PeerId> stale;
    std::vector<PeerId> leaving;
    std::size_t next = 0;
    for (std::size_t k = 0; k < count(config.liar_share) && next < order.size(); ++k)
        liars.insert(node_peers[order[next++]]);
    for (std::size_t k = 0; k < count(config.stale_share) && next < order.size(); ++k)
        stale.insert(node_peers[order[next++]]);
    for (std::size_t k = 0; k < count(config.offline_share) && next < order.size(); ++k)
        leaving.push_back(node_peers[order[next++]]);
    // Radius change: growers, then shrinkers, among the rest (honest, staying).
    std::map<std::size_t, std::size_t> growers;    // node index -> index in result.grown
    std::map<std::size_t, std::size_t> shrinkers;  // node index -> index in result.shrunk
    for (std::size_t k = 0; k < config.growers && next < order.size(); ++k) {
        growers.emplace(order[next++], growers.size());
    }
    for (std::size_t k = 0; k < config.shrinkers && next < order.size(); ++k) {
        shrinkers.emplace(order[next++], shrinkers.size());
    }
    const uint64_t grow_block = config.grow_block != 0 ? config.grow_block : config.epoch_length * 3 / 2;
    const uint64_t shrink_block = config.shrink_block != 0 ? config.shrink_block : config.epoch_length * 3 / 2;
    result.grown.resize(growers.size());
    result.shrunk.resize(shrinkers.size());
    // Joining: the joiners (indexes config.nodes.. of `nodes`), the nodes that lie to them, a prober.
    std::set<PeerId> joiner_peers;
    std::set<PeerId> join_liars;
    Prober prober;
    const auto joined_target = [&result](std::size_t k) {
        return [&result, k]() -> ProbeCounts& { return result.joined[k]; };
    };
    const auto grown_target = [&result](std::size_t k) {
        return [&result, k]() -> ProbeCounts& { return result.grown[k]; };
    };
    const PeerId prober_peer = net.add(prober, {0, 0});
    const uint64_t join_block = config.join_block != 0 ? config.join_block : config.epoch_length * 3 / 2;
    net.set_frame_hook([&](PeerId from, PeerId to, Bytes& frame) {
        if (liars.contains(from) && to == client_peer && !frame.empty() &&
            (config.lies_in.empty() || config.lies_in.contains(static_cast<proto::MessageType>(frame[0])))) {
            lie(frame);
        }
        if (join_liars.contains(from) && joiner_peers.contains(to)) lie(frame);
        if (stale.contains(to) && !frame.empty() && frame[0] == static_cast<uint8_t>(proto::MessageType::kContent)) {
            frame.clear();
        }
        if (joiner_peers.contains(to) && head >= config.joiner_gossip_cut.first &&
            head < config.joiner_gossip_cut.second && !frame.empty() &&
            frame[0] == static_cast<uint8_t>(proto::MessageType::kContent)) {
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
            // The owners present in each region (a storage trie with a slot there), by the region's first key.
            std::map<Hash, std::map<Hash, Hash>> present_owners;
            chain.for_each_account(
                [&](const Hash& key, const state::Account& a, std::span<const std::pair<Hash, Bytes>> slots) {
                    if (a.storage_root == trie::kEmptyRoot) return;
                    for (const auto& slot : slots) {
                        const Hash position = mgr::storage_position(key, slot.first);
                        present_owners[mgr::region_of(position, dht::Radius{config.region_bits}).first][key] =
                            a.storage_root;
                    }
                });
            static const std::map<Hash, Hash> kNone;
            for (std::size_t i = 0; i < nodes.size(); ++i) {
                if (!honest(i)) continue;
                // Joined and grown nodes are also probed directly; shrunk ones counted apart.
                const bool joined = i >= config.nodes;
                const auto g = growers.find(i);
                GrownNodeResult* grown = g != growers.end() && head > grow_block ? &result.grown[g->second] : nullptr;
                const auto sh = shrinkers.find(i);
                ShrunkNodeResult* shrunk =
                    sh != shrinkers.end() && head > shrink_block ? &result.shrunk[sh->second] : nullptr;
                if (nodes[i]->filling()) {
                    // A store not filled (yet, or again) serves nothing, so it is not compared.
                    if (joined) ++result.joined[i - config.nodes].unfilled_checks;
                    if (grown != nullptr) ++grown->unfilled_checks;
                }
                for (const mgr::RegionStore& rs : nodes[i]->stores()) {
                    const mgr::EpochStore* store = rs.store.get();
                    const mgr::Region region = store->region();
                    if (nodes[i]->filling(region)) continue;
                    ++result.boundary_checks;
                    const auto present = present_owners.find(region.first);
                    const bool match = store_matches(*store, chain.node_store(), roots[head],
                                                     present == present_owners.end() ? kNone : present->second);
                    if (!match) ++result.store_mismatches;
                    if (shrunk != nullptr) {
                        ++shrunk->boundary_checks;
                        if (!match) ++shrunk->mismatches;
                    }
                    Prober::Target target;
                    if (joined) {
                        JoinedNodeResult& j = result.joined[i - config.nodes];
                        ++j.boundary_checks;
                        if (!match) ++j.mismatches;
                        target = joined_target(i - config.nodes);
                    } else if (grown != nullptr) {
                        ++grown->boundary_checks;
                        if (!match) ++grown->mismatches;
                        if (const auto gs = nodes[i]->grow_stats();
                            gs && std::find(gs->regions.begin(), gs->regions.end(), region) != gs->regions.end()) {
                            ++grown->new_region_checks;
                        }
                        target = grown_target(g->second);
                    } else {
                        continue;
                    }
                    // Asked directly for what it serves (posted: LocalNet delivers what an endpoint sends
                    // from inside its calls).
                    const PeerId to = node_peers[i];
                    net.post(prober_peer, [&prober, to, target, root = roots[head], region] {
                        prober.chunks(to, target, root, region);
                    });
                    if (head >= config.epoch_length && store->keeps(roots[head - config.epoch_length])) {
                        const Hash before = roots[head - config.epoch_length];
                        if (auto base = mgr::leaves_in(chain.node_store(), before, mgr::path_range(region))) {
                            net.post(prober_peer, [&prober, to, target, before, root = roots[head], region,
                                                   base = std::move(*base)]() mutable {
                                prober.diff(to, target, before, root, region, std::move(base));
                            });
                        }
                    }
                }
            }
        }
        if (config.joiners > 0 && b == join_block + 1) {
            for (std::size_t k = 0; k < config.joiners; ++k) {
                auto node = std::make_unique<mgr::MgrNode>(
                    dht::Contact{node_id(config.seed, config.nodes + k), 0, dht::Radius{config.radius_bits}},
                    node_options, headers);
                const uint64_t bw = config.joiner_bandwidth != 0 ? config.joiner_bandwidth : config.node_bandwidth;
                const PeerId p = net.add(*node, {bw, bw});
                // Its neighbours that lie to it: the first join_liars honest nodes covering its block.
                std::size_t chosen = 0;
                for (std::size_t i = 0; i < config.nodes && chosen < config.join_liars; ++i) {
                    if (!honest(i) || nodes[i]->covered() != node->covered()) continue;
                    join_liars.insert(node_peers[i]);
                    ++chosen;
                }
                net.connect(bridge_peer, p, link);
                for (PeerId q : node_peers) net.connect(p, q, link);
                if (result.sync_started_block > 0) net.connect(client_peer, p, link);
                net.connect(prober_peer, p, link);
                joiner_peers.insert(p);
                mgr::MgrNode* raw = node.get();
                net.post(p, [raw, &net] { raw->join(net.now()); });
                // Asked at once, it must refuse: its store is not filled.
                net.post(prober_peer, [&prober, p, target = joined_target(result.joined.size()), root = roots[head],
                                       region = raw->stores().front().store->region()] {
                    prober.chunks(p, target, root, region, Prober::Want::kRefuse);
                });
                nodes.push_back(std::move(node));
                node_peers.push_back(p);
                result.joined.emplace_back();
                result.joined.back().join_block = head;
            }
        }
        if (b == grow_block + 1) {
            for (const auto& [i, k] : growers) {
                mgr::MgrNode* node = nodes[i].get();
                GrownNodeResult& g = result.grown[k];
                g.grow_block = head;
                g.bits_before = node->covered().bits;
                g.bits_after = std::min(256u, g.bits_before + 1);
                const mgr::Region old_covered = node->covered();
                const mgr::Region new_covered = mgr::region_of(node->dht().self().id, dht::Radius{g.bits_after});
                std::vector<mgr::Region> added;
                for (const mgr::Region& r : mgr::regions_in(new_covered, config.region_bits)) {
                    if (!mgr::contains(old_covered, r)) added.push_back(r);
                }
                g.new_regions = added.size();
                const PeerId p = node_peers[i];
                net.post(p, [node, bits = g.bits_after, &net] { node->set_radius(dht::Radius{bits}, net.now()); });
                if (added.empty()) continue;
                // Asked at once: a new region must be refused (it is filling), an old one served at the head.
                net.connect(prober_peer, p, link);
                net.post(prober_peer, [&prober, &result, p, k, target = grown_target(k), root = roots[head],
                                       fresh = added.front(), old = node->stores().front().store->region()] {
                    prober.chunks(p, target, root, fresh, Prober::Want::kRefuse);
                    prober.chunks(p, target, root, old, Prober::Want::kServeWhileFill,
                                  [&result, k] { ++result.grown[k].old_served_while_filling; });
                });
            }
        }
        if (b == shrink_block + 1) {
            for (const auto& [i, k] : shrinkers) {
                mgr::MgrNode* node = nodes[i].get();
                ShrunkNodeResult& r = result.shrunk[k];
                r.shrink_block = head;
                r.bits_before = node->covered().bits;
                r.bytes_before = node->store_bytes();
                r.budget = static_cast<uint64_t>(config.shrink_share * static_cast<double>(r.bytes_before));
                net.post(node_peers[i], [node, &r, &net] {
                    r.bits_after = node->shrink_to_fit(r.budget, net.now()).bits;
                    r.bytes_after = node->store_bytes();
                });
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
                result.last_missed_block = head;
            }
        }
        if (client.synced() && !result.synced) {
            result.synced = true;
            result.sync_finished_block = head;
            result.sync_seconds = std::chrono::duration<double>(client.synced_at() - sync_start).count();
            result.boundaries_crossed = head / config.epoch_length - result.sync_started_block / config.epoch_length;
            result.client_bytes_received = client.stats().bytes_received;
            result.client_at_sync = client.stats();
            finish_block = head + config.follow_blocks;
            // Joiners get two boundaries after their join to be checked at.
            if (config.joiners > 0) finish_block = std::max(finish_block, join_block + 2 * config.epoch_length + 1);
            // Grown nodes two boundaries after their growth, shrunk ones one.
            if (!growers.empty()) finish_block = std::max(finish_block, grow_block + 2 * config.epoch_length + 1);
            if (!shrinkers.empty()) finish_block = std::max(finish_block, shrink_block + config.epoch_length + 1);
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
                                             mgr::all_regions(config.region_bits));
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
        if (result.verified_root != result.chain_root && result.failure.empty())
            result.failure = "client root differs from the chain";
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
    result.bandwidth_floor_seconds = config.client_bandwidth == 0 ? 0
                                                                  : static_cast<double>(result.raw_state_bytes) /
                                                                        static_cast<double>(config.client_bandwidth);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        result.gossip_bytes +=
            net.metrics(node_peers[i]).received.of_type(static_cast<uint8_t>(proto::MessageType::kContent)).bytes;
        for (const mgr::RegionStore& s : nodes[i]->stores()) {
            result.node_bytes += s.store->byte_size();
            if (honest(i)) result.items_rejected += nodes[i]->stats().items_rejected;
        }
    }
    for (std::size_t k = 0; k < result.joined.size(); ++k) {
        const mgr::MgrNode& n = *nodes[config.nodes + k];
        JoinedNodeResult& j = result.joined[k];
        const auto& s = n.join_stats();
        if (!s) continue;
        record_fill(n, *s, j);
        j.owners = s->fill.owners;
        j.items_applied = n.stats().items_applied;
        j.offers_before_fill = s->offers_before_fill;
        j.chunk_requests_served = n.stats().chunk_requests;
    }
    for (const auto& [i, k] : growers) {
        const mgr::MgrNode& n = *nodes[i];
        GrownNodeResult& g = result.grown[k];
        g.items_applied = n.stats().items_applied;
        const auto& s = n.grow_stats();
        if (s) record_fill(n, *s, g);
    }
    result.gossip_bytes_per_node_per_block =
        head == 0
            ? 0
            : static_cast<double>(result.gossip_bytes) / static_cast<double>(nodes.size()) / static_cast<double>(head);
    return result;
}

}  // namespace carousel::sim
