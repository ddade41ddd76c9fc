// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_scenario.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include <carousel/core/assert.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/dht/node_endpoint.hpp>
#include <carousel/mgr/bridge.hpp>
#include <carousel/mgr/overlay_host.hpp>
#include <carousel/mgr/partial_trie.hpp>
#include <carousel/proto/corrupt_answer.hpp>
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

// The secret of member i (storage nodes from 0, then the bridge, the client, the prober), drawn from
// the seed: keccak256(seed, i), hashed again until it is a valid secp256k1 secret.
dht::KeyPair key_of(uint64_t seed, uint64_t i) {
    const uint8_t in[16] = {
        static_cast<uint8_t>(seed >> 56), static_cast<uint8_t>(seed >> 48), static_cast<uint8_t>(seed >> 40),
        static_cast<uint8_t>(seed >> 32), static_cast<uint8_t>(seed >> 24), static_cast<uint8_t>(seed >> 16),
        static_cast<uint8_t>(seed >> 8),  static_cast<uint8_t>(seed),       static_cast<uint8_t>(i >> 56),
        static_cast<uint8_t>(i >> 48),    static_cast<uint8_t>(i >> 40),    static_cast<uint8_t>(i >> 32),
        static_cast<uint8_t>(i >> 24),    static_cast<uint8_t>(i >> 16),    static_cast<uint8_t>(i >> 8),
        static_cast<uint8_t>(i)};
    Hash secret = keccak256(ByteView{in, sizeof in});
    for (;;) {
        if (auto key = dht::KeyPair::from_secret(ByteView{secret.data(), secret.size()})) return *key;
        secret = keccak256(ByteView{secret.data(), secret.size()});
    }
}

// Members that are not storage nodes, by their key index.
constexpr uint64_t kBridgeKey = uint64_t{1} << 20;
constexpr uint64_t kClientKey = uint64_t{1} << 21;
constexpr uint64_t kProberKey = uint64_t{1} << 22;

// What member `key_index` announces: the net's address of the member it will be (UDP and TCP).
dht::NodeEndpoint endpoint_at(const proto::Address& address, unsigned radius_bits) {
    return dht::NodeEndpoint{address.ip, address.port, address.port, dht::Radius{radius_bits}};
}

// Handshake nonces drawn from the seed, per member.
dht::OverlayOptions overlay_options(dht::OverlayOptions o, uint64_t seed, uint64_t key_index) {
    const Bytes in{
        static_cast<uint8_t>(seed),           static_cast<uint8_t>(seed >> 8),       static_cast<uint8_t>(key_index),
        static_cast<uint8_t>(key_index >> 8), static_cast<uint8_t>(key_index >> 16), 'n'};
    o.handshake.nonce_seed = keccak256(in);
    return o;
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
class Prober final : public mgr::OverlayHost {
  public:
    using Target = std::function<ProbeCounts&()>;

    // An Overlay node of its own (key, address), which dials the nodes it probes: every connection is
    // authenticated, so the prober is a node of the network too (it is in no routing table: it
    // never bootstraps).
    Prober(const dht::KeyPair& key, const proto::Address& address, const dht::OverlayOptions& options)
        : overlay_(
              key, dht::make_node_record(key, 1, endpoint_at(address, 0)).value(), options, driver(),
              dht::Overlay::Core{[this](const dht::NodeId&, ByteView frame, Time now) { answer(frame, now); }, {}}) {}

    dht::Overlay& overlay() override { return overlay_; }
    const dht::Overlay& overlay() const override { return overlay_; }
    enum class Want : uint8_t {
        kServe,           // a verified answer: probes_ok, else probes_failed
        kRefuse,          // a region being filled: 0x0 (refused_while_filling, else served_while_filling)
        kServeWhileFill,  // an old region of a growing node: verified answers count in `also`
    };

    void chunks(const dht::NodeRecord& to, Target target, const Hash& root, const mgr::Region& region,
                Want want = Want::kServe, std::function<void()> also = {}) {
        Expect x{std::move(target), false, root, region.first, mgr::last_key(region), {}, want, std::move(also)};
        proto::GetChunks get;
        get.request_id = next_id_++;
        get.root = root;
        get.prefixes = {nibbles(x.origin), nibbles(x.limit)};
        get.is_range = true;
        get.max_size = 8 * 1024 * 1024;
        get.flags = proto::kFlagLeaves;
        expect_.emplace(get.request_id, std::move(x));
        (void)overlay_.send(to, proto::encode(get), now());
    }
    void diff(const dht::NodeRecord& to, Target target, const Hash& from_root, const Hash& to_root,
              const mgr::Region& region, mgr::Leaves base) {
        Expect x{std::move(target), true, to_root, region.first, mgr::last_key(region), {}, Want::kServe, {}};
        x.base.insert(base.begin(), base.end());
        proto::GetDiff get{next_id_++, from_root, to_root, nibbles(x.origin), nibbles(x.limit)};
        expect_.emplace(get.request_id, std::move(x));
        (void)overlay_.send(to, proto::encode(get), now());
    }

    // Calls from the scenario run as the prober's events: they give the time first.
    void at_time(Time now) { at(now); }

  private:
    void answer(ByteView frame, Time) {
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
        // Anything else is ignored.
    }

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
    dht::Overlay overlay_;
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

// One run, as phases: start() builds the chain's genesis and the network; each block() checks the
// boundary, applies the run's events (joins, growth, shrinking, the client's start, nodes leaving),
// keeps the client's follow record and produces the next block; finish() collects the result.
class MgrScenario {
  public:
    explicit MgrScenario(const MgrScenarioConfig& config)
        : config_(config),
          chain_(config.chain),
          headers_([this](uint64_t n) -> std::optional<Hash> {
              if (n >= roots_.size()) return std::nullopt;
              return roots_[n];
          }),
          node_options_(node_options(config)),
          net_(config.engine, config.latency),
          bridge_(key_of(config.seed, kBridgeKey), endpoint_at(net_.address_of(kBridgePeer), 0),
                  member_options(node_options_, config.seed, kBridgeKey), headers_),
          client_(key_of(config.seed, kClientKey), endpoint_at(net_.address_of(kClientPeer), 0), sync_options(config),
                  mgr::ChainView{[this] { return head_; }, headers_}),
          prober_(key_of(config.seed, kProberKey), net_.address_of(kProberPeer),
                  overlay_options(node_options_.overlay, config.seed, kProberKey)),
          grow_block_(config.grow_block != 0 ? config.grow_block : config.epoch_length * 3 / 2),
          shrink_block_(config.shrink_block != 0 ? config.shrink_block : config.epoch_length * 3 / 2),
          join_block_(config.join_block != 0 ? config.join_block : config.epoch_length * 3 / 2) {}

    MgrScenarioResult run() {
        if (config_.joiners > 0 && net_.engine() == Engine::kSimGrid) {
            result_.failure = "joiners are not supported on SimGrid yet (members are added before the first run)";
            return std::move(result_);
        }
        if (!start()) return std::move(result_);
        choose_faults();
        watch_frames();
        for (uint64_t b = 1; b <= config_.max_blocks; ++b) {
            net_.run_until(Time{config_.block_time * static_cast<int64_t>(b)});
            // The previous block has had a block time to spread: check the stores at a boundary.
            if (head_ > 0 && head_ % config_.epoch_length == 0) check_boundary();
            if (config_.joiners > 0 && b == join_block_ + 1) join();
            if (b == grow_block_ + 1) grow();
            if (b == shrink_block_ + 1) shrink();
            if (b == config_.client_start_block + 1) start_client();
            if (!left_ && result_.sync_started_block > 0 && client_.progress() >= 1.0 / 3.0) leave();
            record_client();
            if (result_.synced && head_ >= finish_block_) break;
            if (!client_.failure().empty()) {
                result_.failure = client_.failure();
                break;
            }
            if (!next_block(b)) return std::move(result_);
        }
        finish();
        return std::move(result_);
    }

  private:
    // Member ids (ScenarioNet), in the order start() adds the members: the bridge, the client, the prober, then
    // the storage nodes (from kFirstNodePeer), then the joiners. A member's record names the
    // address the net gives its id (ScenarioNet::address_of), so it is made before it is added.
    static constexpr PeerId kBridgePeer = 1;
    static constexpr PeerId kClientPeer = 2;
    static constexpr PeerId kProberPeer = 3;
    static constexpr PeerId kFirstNodePeer = 4;

    static mgr::NodeOptions member_options(mgr::NodeOptions o, uint64_t seed, uint64_t key_index) {
        o.overlay = overlay_options(o.overlay, seed, key_index);
        return o;
    }
    // Adds a member made for id `expected` to the net.
    PeerId add_member(mgr::OverlayHost& member, ScenarioNet::Link link, PeerId expected) {
        const PeerId id = net_.add_member(member, link);
        CAROUSEL_ASSERT(id == expected, "the scenario adds its members in the order of their addresses");
        return id;
    }
    // A storage node, key index `i`, for member id `peer`.
    std::unique_ptr<mgr::MgrNode> make_node(uint64_t i, PeerId peer) const {
        return std::make_unique<mgr::MgrNode>(key_of(config_.seed, i),
                                              endpoint_at(net_.address_of(peer), config_.radius_bits),
                                              member_options(node_options_, config_.seed, i), headers_);
    }
    // Node i's record as announced now (its radius may have changed).
    const dht::NodeRecord& record_of(PeerId peer) const {
        for (std::size_t i = 0; i < node_peers_.size(); ++i) {
            if (node_peers_[i] == peer) return nodes_[i]->record();
        }
        return bridge_.node().record();  // not reached: only nodes are probed
    }

    static mgr::NodeOptions node_options(const MgrScenarioConfig& config) {
        mgr::NodeOptions o;
        o.overlay.connections.max_peers = config.max_peers;
        o.region_bits = config.region_bits;
        o.epoch_length = config.epoch_length;
        o.bare_leaves_max = config.bare_leaves_max;
        return o;
    }
    static mgr::MgrSyncOptions sync_options(const MgrScenarioConfig& config) {
        mgr::MgrSyncOptions o;
        o.overlay = overlay_options(o.overlay, config.seed, kClientKey);
        o.overlay.connections.max_peers = config.max_peers;
        // The client's link carries the sync: its datagrams and handshakes queue behind the answers
        // in flight, at least initial_window of them (52 s at the tests' 2,500 bytes/s), so its
        // Discovery requests and handshakes wait that long twice over, and 10 s more, before they
        // give up (else its table empties by timeouts and new connections never authenticate).
        const Time queue = config.client_bandwidth == 0
                               ? Time{0}
                               : Time{static_cast<int64_t>(o.initial_window * 1'000'000 / config.client_bandwidth)};
        const Time patience = std::chrono::seconds{10} + 2 * queue;
        o.overlay.discovery.request_timeout = std::max(o.overlay.discovery.request_timeout, patience);
        o.overlay.handshake.timeout = std::max(o.overlay.handshake.timeout, patience);
        o.overlay.connections.handshake_timeout = std::max(o.overlay.connections.handshake_timeout, patience);
        o.region_bits = config.region_bits;
        o.epoch_length = config.epoch_length;
        return o;
    }

    // The genesis, the nodes, the bridge and the client on the network; the nodes cover the key space
    // and are seeded with the genesis state. False (result_.failure set) when that fails.
    bool start() {
        if (auto g = chain_.genesis(); !g) {
            result_.failure = "genesis failed";
            return false;
        }
        roots_.push_back(chain_.root());
        // Code of the genesis, for the nodes covering its hashes.
        std::vector<Bytes> genesis_code;
        std::set<Hash> seen;
        chain_.for_each_account([&](const Hash&, const state::Account& a, std::span<const std::pair<Hash, Bytes>>) {
            if (a.code_hash == state::kEmptyCodeHash || !seen.insert(a.code_hash).second) return;
            if (auto code = chain_.code_store().get_code(a.code_hash)) genesis_code.push_back(std::move(*code));
        });
        const auto genesis_owners = mgr::owners_of(chain_.node_store(), roots_[0]);
        if (!genesis_owners) {
            result_.failure = "reading the genesis owners failed";
            return false;
        }
        // Every dial and datagram takes the scenario's latency (the net's); nothing is connected by
        // hand: each member dials the nodes it needs (no full mesh), after finding them by Discovery.
        bridge_peer_ = add_member(bridge_.node(), {0, 0}, kBridgePeer);
        client_peer_ = add_member(client_, {config_.client_bandwidth, config_.client_bandwidth}, kClientPeer);
        prober_peer_ = add_member(prober_, {0, 0}, kProberPeer);
        for (std::size_t i = 0; i < config_.nodes; ++i) {
            const PeerId peer = kFirstNodePeer + static_cast<PeerId>(i);
            nodes_.push_back(make_node(i, peer));
            node_peers_.push_back(add_member(*nodes_.back(), {config_.node_bandwidth, config_.node_bandwidth}, peer));
        }
        // The network's genesis: every node meets the bridge (the bootnode), then looks up its own id
        // twice (the second lookup finds the nodes that had not joined yet at the first), so that its
        // table holds its neighbours; then each grows its radius over the blocks beside its own that
        // no node covers (MgrNode::cover_gaps) and is seeded with its regions of the genesis state.
        const Time round_trip = std::max<Time>(config_.latency, std::chrono::milliseconds{1}) * 2;
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            mgr::MgrNode* node = nodes_[i].get();
            net_.post(node_peers_[i], [node, this] { node->bootstrap(bridge_.node().record(), net_.now()); });
        }
        for (const Time at : {round_trip * 4, round_trip * 30}) {
            net_.run_until(at);
            for (std::size_t i = 0; i < nodes_.size(); ++i) {
                mgr::MgrNode* node = nodes_[i].get();
                net_.post(node_peers_[i], [node, this] { node->look_up_self(net_.now()); });
            }
        }
        net_.run_until(round_trip * 60);
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            mgr::MgrNode* node = nodes_[i].get();
            net_.post(node_peers_[i], [node, this] { (void)node->cover_gaps(net_.now()); });
        }
        net_.run_until(round_trip * 64);
        for (auto& node : nodes_) {
            if (auto s = node->seed(chain_.node_store(), 0, roots_[0], *genesis_owners, genesis_code); !s) {
                result_.failure = "seeding a node failed: " + s.error();
                return false;
            }
        }
        return true;
    }

    // Faults, drawn from the seed: liars, stale and leaving nodes, then growers and shrinkers among the
    // rest (honest, staying).
    void choose_faults() {
        state::Rng rng(config_.seed, 0x5ce7a);
        std::vector<std::size_t> order(nodes_.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.next() % i]);
        const auto count = [&](double share) {
            return static_cast<std::size_t>(std::lround(share * static_cast<double>(nodes_.size())));
        };
        std::size_t next = 0;
        for (std::size_t k = 0; k < count(config_.liar_share) && next < order.size(); ++k)
            liars_.insert(node_peers_[order[next++]]);
        for (std::size_t k = 0; k < count(config_.stale_share) && next < order.size(); ++k)
            stale_.insert(node_peers_[order[next++]]);
        for (std::size_t k = 0; k < count(config_.offline_share) && next < order.size(); ++k)
            leaving_.push_back(node_peers_[order[next++]]);
        for (std::size_t k = 0; k < config_.growers && next < order.size(); ++k) {
            growers_.emplace(order[next++], growers_.size());
        }
        for (std::size_t k = 0; k < config_.shrinkers && next < order.size(); ++k) {
            shrinkers_.emplace(order[next++], shrinkers_.size());
        }
        result_.grown.resize(growers_.size());
        result_.shrunk.resize(shrinkers_.size());
    }

    // What the faults do to frames on the way: liars alter their answers to the client (and join
    // liars theirs to the joiners); stale nodes and cut-off joiners lose their gossip.
    void watch_frames() {
        net_.set_frame_hook([this](PeerId from, PeerId to, Bytes& frame) {
            if (liars_.contains(from) && to == client_peer_ && !frame.empty() &&
                (config_.lies_in.empty() || config_.lies_in.contains(static_cast<proto::MessageType>(frame[0])))) {
                proto::corrupt_answer(frame);
            }
            // Join liars alter what a fill verifies (leaves, nodes, code), not the presence walk's
            // BareStorage: which owners are present in a region is what the neighbours say, and a
            // neighbour that leaves one out is not caught (RegionFill's stated limit). Which
            // neighbour a fill asks first depends on the node ids, so with the lie the test would
            // pass or fail by the draw of ids.
            if (join_liars_.contains(from) && joiner_peers_.contains(to) && !frame.empty() &&
                frame[0] != static_cast<uint8_t>(proto::MessageType::kBareStorage)) {
                proto::corrupt_answer(frame);
            }
            if (stale_.contains(to) && !frame.empty() &&
                frame[0] == static_cast<uint8_t>(proto::MessageType::kContent)) {
                frame.clear();
            }
            if (joiner_peers_.contains(to) && head_ >= config_.joiner_gossip_cut.first &&
                head_ < config_.joiner_gossip_cut.second && !frame.empty() &&
                frame[0] == static_cast<uint8_t>(proto::MessageType::kContent)) {
                frame.clear();
            }
        });
    }

    bool honest(std::size_t i) const {
        const PeerId p = node_peers_[i];
        return !liars_.contains(p) && !stale_.contains(p) && net_.online(p);
    }
    Prober::Target joined_target(std::size_t k) {
        return [this, k]() -> ProbeCounts& { return result_.joined[k]; };
    }
    Prober::Target grown_target(std::size_t k) {
        return [this, k]() -> ProbeCounts& { return result_.grown[k]; };
    }

    // At a boundary: every honest node's stores against the true partial tries, and the joined and
    // grown nodes' answers through the prober.
    void check_boundary() {
        // The owners present in each region (a storage trie with a slot there), by the region's first key.
        std::map<Hash, std::map<Hash, Hash>> present_owners;
        chain_.for_each_account([&](const Hash& key, const state::Account& a,
                                    std::span<const std::pair<Hash, Bytes>> slots) {
            if (a.storage_root == trie::kEmptyRoot) return;
            for (const auto& slot : slots) {
                const Hash position = mgr::storage_position(key, slot.first);
                present_owners[mgr::region_of(position, dht::Radius{config_.region_bits}).first][key] = a.storage_root;
            }
        });
        static const std::map<Hash, Hash> kNone;
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (!honest(i)) continue;
            // Joined and grown nodes are also probed directly; shrunk ones counted apart.
            const bool joined = i >= config_.nodes;
            const auto g = growers_.find(i);
            GrownNodeResult* grown = g != growers_.end() && head_ > grow_block_ ? &result_.grown[g->second] : nullptr;
            const auto sh = shrinkers_.find(i);
            ShrunkNodeResult* shrunk =
                sh != shrinkers_.end() && head_ > shrink_block_ ? &result_.shrunk[sh->second] : nullptr;
            if (nodes_[i]->filling()) {
                // A store not filled (yet, or again) serves nothing, so it is not compared.
                if (joined) ++result_.joined[i - config_.nodes].unfilled_checks;
                if (grown != nullptr) ++grown->unfilled_checks;
            }
            for (const mgr::RegionStore& rs : nodes_[i]->stores()) {
                const mgr::EpochStore* store = rs.store.get();
                const mgr::Region region = store->region();
                if (nodes_[i]->filling(region)) continue;
                ++result_.boundary_checks;
                const auto present = present_owners.find(region.first);
                const bool match = store_matches(*store, chain_.node_store(), roots_[head_],
                                                 present == present_owners.end() ? kNone : present->second);
                if (!match) ++result_.store_mismatches;
                if (shrunk != nullptr) {
                    ++shrunk->boundary_checks;
                    if (!match) ++shrunk->mismatches;
                }
                Prober::Target target;
                if (joined) {
                    JoinedNodeResult& j = result_.joined[i - config_.nodes];
                    ++j.boundary_checks;
                    if (!match) ++j.mismatches;
                    target = joined_target(i - config_.nodes);
                } else if (grown != nullptr) {
                    ++grown->boundary_checks;
                    if (!match) ++grown->mismatches;
                    if (const auto gs = nodes_[i]->grow_stats();
                        gs && std::find(gs->regions.begin(), gs->regions.end(), region) != gs->regions.end()) {
                        ++grown->new_region_checks;
                    }
                    target = grown_target(g->second);
                } else {
                    continue;
                }
                probe(node_peers_[i], target, *store);
            }
        }
    }

    // Asks node `to` directly for what `store` serves at the head boundary, and for the diff from the
    // boundary before when it keeps it (posted: the net delivers what an endpoint sends from inside
    // its calls).
    void probe(PeerId to, const Prober::Target& target, const mgr::EpochStore& store) {
        const mgr::Region region = store.region();
        net_.post(prober_peer_, [this, to, target, root = roots_[head_], region] {
            prober_.at_time(net_.now());
            prober_.chunks(record_of(to), target, root, region);
        });
        if (head_ >= config_.epoch_length && store.keeps(roots_[head_ - config_.epoch_length])) {
            const Hash before = roots_[head_ - config_.epoch_length];
            if (auto base = mgr::leaves_in(chain_.node_store(), before, mgr::path_range(region))) {
                net_.post(prober_peer_,
                          [this, to, target, before, root = roots_[head_], region, base = std::move(*base)]() mutable {
                              prober_.at_time(net_.now());
                              prober_.diff(record_of(to), target, before, root, region, std::move(base));
                          });
            }
        }
    }

    // The joiners: new nodes, connected to everyone, that join and fill their stores.
    void join() {
        for (std::size_t k = 0; k < config_.joiners; ++k) {
            const auto expected = kFirstNodePeer + static_cast<PeerId>(nodes_.size());
            auto node = make_node(config_.nodes + k, expected);
            const uint64_t bw = config_.joiner_bandwidth != 0 ? config_.joiner_bandwidth : config_.node_bandwidth;
            const PeerId p = add_member(*node, {bw, bw}, expected);
            // Its neighbours that lie to it: the first join_liars honest nodes covering its region.
            std::size_t chosen = 0;
            for (std::size_t i = 0; i < config_.nodes && chosen < config_.join_liars; ++i) {
                if (!honest(i) || nodes_[i]->covered() != node->covered()) continue;
                join_liars_.insert(node_peers_[i]);
                ++chosen;
            }
            joiner_peers_.insert(p);
            mgr::MgrNode* raw = node.get();
            // It meets the bridge, then joins once the two have bonded (a round trip and a half).
            net_.post(p, [raw, this] { raw->bootstrap(bridge_.node().record(), net_.now()); });
            const Time bonded = net_.now() + std::max<Time>(config_.latency, std::chrono::milliseconds{1}) * 6;
            net_.post(
                p, [raw, this] { raw->join(net_.now()); }, bonded);
            // Asked at once, it must refuse: its store is not filled.
            net_.post(
                prober_peer_,
                [this, record = raw->record(), target = joined_target(result_.joined.size()), root = roots_[head_],
                 region = raw->stores().front().store->region()] {
                    prober_.at_time(net_.now());
                    prober_.chunks(record, target, root, region, Prober::Want::kRefuse);
                },
                bonded);
            nodes_.push_back(std::move(node));
            node_peers_.push_back(p);
            result_.joined.emplace_back();
            result_.joined.back().join_block = head_;
        }
    }

    // The growers double their radius; a new region must be refused at once, an old one served.
    void grow() {
        for (const auto& [i, index] : growers_) {
            const std::size_t k = index;  // a lambda cannot capture a structured binding (before C++20's clang 16)
            mgr::MgrNode* node = nodes_[i].get();
            GrownNodeResult& g = result_.grown[k];
            g.grow_block = head_;
            g.bits_before = node->covered().bits;
            g.bits_after = std::min(256u, g.bits_before + 1);
            const mgr::Region old_covered = node->covered();
            const mgr::Region new_covered = mgr::region_of(node->id(), dht::Radius{g.bits_after});
            std::vector<mgr::Region> added;
            for (const mgr::Region& r : mgr::regions_in(new_covered, config_.region_bits)) {
                if (!mgr::contains(old_covered, r)) added.push_back(r);
            }
            g.new_regions = added.size();
            const PeerId p = node_peers_[i];
            net_.post(p, [node, bits = g.bits_after, this] { node->set_radius(dht::Radius{bits}, net_.now()); });
            if (added.empty()) continue;
            net_.post(prober_peer_, [this, p, k, target = grown_target(k), root = roots_[head_], fresh = added.front(),
                                     old = node->stores().front().store->region()] {
                prober_.at_time(net_.now());
                prober_.chunks(record_of(p), target, root, fresh, Prober::Want::kRefuse);
                prober_.chunks(record_of(p), target, root, old, Prober::Want::kServeWhileFill,
                               [this, k] { ++result_.grown[k].old_served_while_filling; });
            });
        }
    }

    // The shrinkers shrink to a share of their stores' bytes.
    void shrink() {
        for (const auto& [i, k] : shrinkers_) {
            mgr::MgrNode* node = nodes_[i].get();
            ShrunkNodeResult& r = result_.shrunk[k];
            r.shrink_block = head_;
            r.bits_before = node->covered().bits;
            r.bytes_before = node->store_bytes();
            r.budget = static_cast<uint64_t>(config_.shrink_share * static_cast<double>(r.bytes_before));
            net_.post(node_peers_[i], [node, &r, this] {
                r.bits_after = node->shrink_to_fit(r.budget, net_.now()).bits;
                r.bytes_after = node->store_bytes();
            });
        }
    }

    void start_client() {
        result_.sync_started_block = head_;
        sync_start_ = net_.now();
        net_.post(client_peer_, [this] { client_.bootstrap(bridge_.node().record(), net_.now()); });
    }

    void leave() {
        left_ = true;
        for (PeerId p : leaving_) net_.set_offline(p);
    }

    // The client's record: whether it reached the last block before this one, and its sync.
    void record_client() {
        if (result_.synced && head_ > result_.sync_finished_block) {
            // The client had a block time to follow the last block.
            if (client_.verified_number() == head_) {
                ++result_.blocks_followed;
            } else {
                ++result_.blocks_missed;
                result_.last_missed_block = head_;
            }
        }
        if (!client_.synced() || result_.synced) return;
        result_.synced = true;
        result_.sync_finished_block = head_;
        result_.sync_seconds = std::chrono::duration<double>(client_.synced_at() - sync_start_).count();
        result_.boundaries_crossed = head_ / config_.epoch_length - result_.sync_started_block / config_.epoch_length;
        result_.client_bytes_received = client_.stats().bytes_received;
        result_.client_at_sync = client_.stats();
        finish_block_ = head_ + config_.follow_blocks;
        // Joiners get two boundaries after their join to be checked at.
        if (config_.joiners > 0) finish_block_ = std::max(finish_block_, join_block_ + 2 * config_.epoch_length + 1);
        // Grown nodes two boundaries after their growth, shrunk ones one.
        if (!growers_.empty()) finish_block_ = std::max(finish_block_, grow_block_ + 2 * config_.epoch_length + 1);
        if (!shrinkers_.empty()) finish_block_ = std::max(finish_block_, shrink_block_ + config_.epoch_length + 1);
    }

    // Block b: the generator makes it, the bridge gossips it. False (result_.failure set) on failure.
    bool next_block(uint64_t b) {
        const Hash old_root = roots_.back();
        auto diff = chain_.next_block();
        if (!diff) {
            result_.failure = "the generator failed";
            return false;
        }
        roots_.push_back(chain_.root());
        head_ = b;
        auto gossip = bridge_.cut(chain_.node_store(), b, old_root, roots_.back(), *diff);
        if (!gossip) {
            result_.failure = "the bridge failed to build items";
            return false;
        }
        net_.post(bridge_peer_, [this, gossip = std::move(*gossip)]() { bridge_.publish(gossip, net_.now()); });
        if (config_.on_block) config_.on_block(client_.progress(), b, net_.now());
        return true;
    }

    void finish() {
        MgrScenarioResult& result = result_;
        result.blocks = head_;
        if (client_.verified_number()) {
            result.verified_block = *client_.verified_number();
            result.verified_root = client_.state_root();
            result.chain_root = roots_[result.verified_block];
            if (result.verified_root != result.chain_root && result.failure.empty())
                result.failure = "client root differs from the chain";
        } else if (result.failure.empty()) {
            result.failure = "the client did not sync within max_blocks";
        }
        result.client = client_.stats();
        result.accounts = client_.accounts();
        result.slots = client_.slots();
        result.codes = client_.codes();
        // Raw state: every leaf (32-byte key and its value) and every code blob, at the verified block's
        // contents as the client holds them.
        result.raw_state_bytes = client_.raw_bytes();
        result.bandwidth_floor_seconds =
            config_.client_bandwidth == 0
                ? 0
                : static_cast<double>(result.raw_state_bytes) / static_cast<double>(config_.client_bandwidth);
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            result.gossip_bytes +=
                net_.received_bytes(node_peers_[i], static_cast<uint8_t>(proto::MessageType::kContent));
            for (const mgr::RegionStore& s : nodes_[i]->stores()) {
                result.node_bytes += s.store->byte_size();
                if (honest(i)) result.items_rejected += nodes_[i]->stats().items_rejected;
            }
        }
        for (std::size_t k = 0; k < result.joined.size(); ++k) {
            const mgr::MgrNode& n = *nodes_[config_.nodes + k];
            JoinedNodeResult& j = result.joined[k];
            const auto& s = n.join_stats();
            if (!s) continue;
            record_fill(n, *s, j);
            j.owners = s->fill.owners;
            j.items_applied = n.stats().items_applied;
            j.offers_before_fill = s->offers_before_fill;
            j.chunk_requests_served = n.stats().chunk_requests;
        }
        for (const auto& [i, k] : growers_) {
            const mgr::MgrNode& n = *nodes_[i];
            GrownNodeResult& g = result.grown[k];
            g.items_applied = n.stats().items_applied;
            const auto& s = n.grow_stats();
            if (s) record_fill(n, *s, g);
        }
        // Connections: each member's peak, as the net counted its connections.
        result.max_peers = config_.max_peers;
        for (const PeerId p : node_peers_) result.peak_connections.push_back(net_.peak_connections(p));
        result.bridge_peak_connections = net_.peak_connections(bridge_peer_);
        result.client_peak_connections = net_.peak_connections(client_peer_);
        result.gossip_bytes_per_node_per_block = head_ == 0 ? 0
                                                            : static_cast<double>(result.gossip_bytes) /
                                                                  static_cast<double>(nodes_.size()) /
                                                                  static_cast<double>(head_);
    }

    const MgrScenarioConfig& config_;
    MgrScenarioResult result_;
    state::ChainGenerator chain_;
    std::vector<Hash> roots_;
    uint64_t head_{0};
    const mgr::HeaderSource headers_;
    const mgr::NodeOptions node_options_;
    ScenarioNet net_;
    std::vector<std::unique_ptr<mgr::MgrNode>> nodes_;
    std::vector<PeerId> node_peers_;
    mgr::Bridge bridge_;
    PeerId bridge_peer_{0};
    mgr::MgrSync client_;
    PeerId client_peer_{0};
    Prober prober_;
    PeerId prober_peer_{0};
    const uint64_t grow_block_;
    const uint64_t shrink_block_;
    const uint64_t join_block_;
    std::set<PeerId> liars_;
    std::set<PeerId> stale_;
    std::vector<PeerId> leaving_;
    std::map<std::size_t, std::size_t> growers_;    // node index -> index in result_.grown
    std::map<std::size_t, std::size_t> shrinkers_;  // node index -> index in result_.shrunk
    std::set<PeerId> joiner_peers_;
    std::set<PeerId> join_liars_;
    bool left_{false};
    Time sync_start_{0};
    uint64_t finish_block_{0};
};

}  // namespace

MgrScenarioResult run_mgr_scenario(const MgrScenarioConfig& config) { return MgrScenario{config}.run(); }

}  // namespace carousel::sim
