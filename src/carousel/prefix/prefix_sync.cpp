// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "prefix_sync.hpp"

#include <algorithm>

#include <carousel/core/keccak.hpp>
#include <carousel/core/rlp.hpp>
#include <carousel/state/account.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/node_walker.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::prefix {

struct PrefixSync::Task {
    Hash root{};
    std::optional<Hash> account;           // the account whose storage trie this is
    std::unique_ptr<trie::TrieSync> sync;  // full mode
    std::unique_ptr<LeafSync> leaves;      // leaf mode
    bool top_requested{false};
    std::set<Nibbles> in_flight;                // frontier positions asked for
    std::deque<trie::PathRange> continuations;  // cut entries still to continue
    std::set<proto::PeerId> lacking;            // peers that answered 0x1 for this trie
};

struct PrefixSync::Request {
    proto::PeerId peer{0};
    dht::PeerPool::Ticket ticket;  // when it went (or the stream's last frame came), its slot
    bool code{false};
    bool top{false};
    bool is_range{false};
    Hash root{};
    std::vector<trie::PathRange> ranges;
    std::vector<Nibbles> marked;  // frontier positions marked in flight by this request
    std::vector<Hash> code_hashes;
    uint64_t flags{0};  // the GetChunks flags it went with
    // A streamed answer still coming (kFlagStream): `ranges` are the continuations the server is
    // sending, each from where its last frame stopped; `ignored[i]`: range i follows a part that
    // was refused (or a trie no longer synced), so its frames are followed to the end, not taken.
    bool streaming{false};
    std::vector<uint8_t> ignored;
    // Past its peer's deadline, its work went back to the pool for another peer (hedging): it still
    // holds its peer's slot until answered or timed out, and its answer is ignored without penalty.
    bool hedged{false};
};

// Reads the store first, then the verified nodes waiting in memory (account trie, open storage
// tries). Puts are dropped: it is a view for serving and for light-mode lookups.
class PrefixSync::VerifiedNodes final : public trie::NodeStore {
  public:
    explicit VerifiedNodes(const PrefixSync& sync) : sync_{sync} {}
    trie::NodeRead find_node(const Hash& hash) const override {
        auto n = sync_.nodes_.find_node(hash);
        if (!n || *n) return n;
        if (sync_.account_ && sync_.account_->sync) {
            if (const Bytes* b = sync_.account_->sync->waiting_node(hash)) return *b;
        }
        for (const auto& [root, task] : sync_.storage_) {
            if (!task->sync) continue;
            if (const Bytes* b = task->sync->waiting_node(hash)) return *b;
        }
        return std::nullopt;
    }
    void put_node(const Hash&, ByteView) override {}

  private:
    const PrefixSync& sync_;
};

// The store as a LeafSync sees it: counts the nodes it builds from verified leaves (progress_.
// nodes_built, node_bytes_built: leaf mode's share of the verify floor) on their way to the store.
class PrefixSync::BuiltNodes final : public trie::NodeStore {
  public:
    explicit BuiltNodes(PrefixSync& sync) : sync_{sync} {}
    trie::NodeRead find_node(const Hash& hash) const override { return sync_.nodes_.find_node(hash); }
    trie::NodeFound read_node(const Hash& hash, Bytes& out) const override { return sync_.nodes_.read_node(hash, out); }
    void put_node(const Hash& hash, ByteView rlp) override {
        ++sync_.progress_.nodes_built;
        sync_.progress_.node_bytes_built += rlp.size();
        sync_.nodes_.put_node(hash, rlp);
    }
    void flush() override { sync_.nodes_.flush(); }

  private:
    PrefixSync& sync_;
};

namespace {

bool valid_account(ByteView value) {
    ByteView in = value;
    auto a = state::decode_account(in);
    return a && in.empty();
}

// The leaves of the stored subtree `root`. The store holds only complete subtrees; a node that is
// missing or does not decode ends its branch of the count.
uint64_t count_stored_leaves(const trie::NodeStore& store, const Hash& root) {
    trie::NodeWalker walk{store, nullptr, view(root), {}, trie::NodeWalker::OnError::kSkip};
    uint64_t n = 0;
    while (walk.next()) {
        const trie::Node* node = walk.node();
        if (node != nullptr && (node->kind == trie::NodeKind::kLeaf || !node->value.empty())) ++n;
    }
    return n;
}

bool valid_slot(ByteView value) {
    ByteView in = value;
    auto v = rlp::decode_uint256(in);
    return v && in.empty() && !v->empty();
}

}  // namespace

PrefixSync::PrefixSync(trie::NodeStore& nodes, state::CodeStore& code, const Hash& root, PrefixSyncOptions options,
                       TrustedRoot trusted)
    : nodes_{nodes},
      code_{code},
      root_{root},
      options_{std::move(options)},
      trusted_{std::move(trusted)},
      pool_{pool_options(options_)},
      verified_{std::make_unique<VerifiedNodes>(*this)},
      built_{std::make_unique<BuiltNodes>(*this)} {
    if (!options_.leaf_mode) {
        for (const Hash& k : options_.light_accounts) {
            if (light_wanted_.insert(k).second) light_keys_.push_back(unpack_nibbles(view(k)));
        }
        std::sort(light_keys_.begin(), light_keys_.end());
        progress_.light_wanted = light_keys_.size();
    }
    make_account_task(root, options_.leaf_mode);
}

void PrefixSync::note_unknown_root(proto::PeerId from, const proto::ChunkEntry& e) {
    lacks_root_[from] = e.error_data.size() == 32 ? std::optional<Hash>{to_hash(e.error_data)} : std::nullopt;
}

dht::PeerPoolOptions PrefixSync::pool_options(const PrefixSyncOptions& o) {
    dht::PeerPoolOptions p;
    // Requests allowed in flight per peer: start at 4, grow by one per answer within a quarter of
    // the timeout up to requests_per_peer, halve on a timeout, fall to one at a hedge. A slow server
    // (a cold database) then never has more queued than it answers within the timeout, and a fast
    // one gets the deep pipeline.
    p.initial_window = 4;
    p.min_window = 1;
    p.max_window = o.requests_per_peer;
    p.quick_answer = o.request_timeout / 4;
    p.request_timeout = o.request_timeout;
    p.rtt_scaling = o.rtt_scaling;
    p.min_rtt_timeout = o.min_hedge_after;
    p.initial_rtt = o.initial_rtt;
    p.ban_standing = o.drop_score;
    p.max_standing = 8;
    return p;
}

std::optional<std::optional<Hash>> PrefixSync::root_unavailable() const {
    if (pool_.peers().empty()) return std::nullopt;
    std::optional<Hash> offered;
    for (const auto& [peer, p] : pool_.peers()) {
        auto it = lacks_root_.find(peer);
        if (it == lacks_root_.end()) return std::nullopt;
        if (it->second) offered = it->second;
    }
    return offered;
}

bool PrefixSync::can_move_to(const proto::ChunkEntry& e) const {
    return e.error == proto::ChunkError::kUnknownRoot && e.error_data.size() == 32 && trusted_ &&
           to_hash(e.error_data) != root_ && trusted_(to_hash(e.error_data));
}

bool PrefixSync::light_focus(const Nibbles& pos) const {
    auto it = std::lower_bound(light_keys_.begin(), light_keys_.end(), pos);
    return it != light_keys_.end() && it->compare(0, pos.size(), pos) == 0;
}

bool PrefixSync::light_fetched() const {
    // A frontier position above a wanted key is its predecessor in position order (positions on the
    // frontier are disjoint sub-tries, so nothing sorts between the two).
    const auto& frontier = account_->sync->frontier();
    for (const Nibbles& key : light_keys_) {
        auto it = frontier.upper_bound(key);
        if (it == frontier.begin()) continue;
        --it;
        if (key.compare(0, it->first.size(), it->first) == 0) return false;
    }
    return true;
}

std::optional<std::vector<LightAccount>> PrefixSync::light_result() const {
    if (!light() || !done()) return std::nullopt;
    VerifiedNodes nodes{*this};
    trie::Trie t{&nodes, root_};
    std::vector<LightAccount> out;
    for (const Hash& key : light_wanted_) {
        auto v = t.get(view(key));
        if (!v) return std::nullopt;
        out.push_back({key, std::move(*v)});
    }
    return out;
}

const trie::NodeStore& PrefixSync::verified_nodes() const noexcept { return *verified_; }

PrefixSync::~PrefixSync() = default;

bool PrefixSync::task_fetched(const Task& task) { return task.leaves ? task.leaves->fetched() : task.sync->fetched(); }

bool PrefixSync::task_complete(const Task& task) {
    return task.leaves ? task.leaves->complete() : task.sync->complete();
}

void PrefixSync::make_account_task(const Hash& root, bool leaf_mode) {
    account_ = std::make_unique<Task>();
    account_->root = root;
    if (leaf_mode) {
        account_->leaves = std::make_unique<LeafSync>(*built_, root, valid_account, account_leaf_sink(), 16,
                                                      options_.leaf_spill, options_.leaf_spill_bytes);
    } else {
        account_->sync = std::make_unique<trie::TrieSync>(nodes_, root, valid_account, account_leaf_sink());
    }
}

// Every account names its storage trie and code as dependencies until the client holds them.
trie::TrieSync::LeafSink PrefixSync::account_leaf_sink() {
    return [this](ByteView key, ByteView value, std::vector<Hash>& deps) {
        ByteView in = value;
        auto a = state::decode_account(in);
        if (!a) return;  // checked before acceptance
        ++progress_.accounts;
        // Light mode fetches only the wanted accounts' storage and code; the others still name
        // theirs as dependencies, so their nodes are never stored as complete.
        const bool wanted = light_keys_.empty() || light_wanted_.count(to_hash(key)) != 0;
        if (a->storage_root != trie::kEmptyRoot && !nodes_.get_node(a->storage_root)) {
            if (wanted) storage_task(a->storage_root, to_hash(key));
            deps.push_back(a->storage_root);
        }
        if (a->code_hash != state::kEmptyCodeHash && !code_.get_code(a->code_hash)) {
            if (wanted && code_wanted_.insert(a->code_hash).second) ++progress_.code_wanted;
            deps.push_back(a->code_hash);
        }
    };
}

PrefixSync::Task& PrefixSync::storage_task(const Hash& storage_root, const Hash& account_key) {
    auto it = storage_.find(storage_root);
    if (it != storage_.end()) return *it->second;
    auto task = std::make_unique<Task>();
    task->root = storage_root;
    task->account = account_key;
    auto count_slot = [this](ByteView, ByteView, std::vector<Hash>&) { ++progress_.slots; };
    if (options_.leaf_mode) {
        task->leaves = std::make_unique<LeafSync>(*built_, storage_root, valid_slot, count_slot, 1, options_.leaf_spill,
                                                  options_.leaf_spill_bytes);
    } else {
        // A subtree it finds held already (the same slots in another storage trie) counts too.
        auto count_held = [this](const Hash& subtree) { progress_.slots += count_stored_leaves(nodes_, subtree); };
        task->sync = std::make_unique<trie::TrieSync>(nodes_, storage_root, valid_slot, count_slot, count_held);
    }
    ++progress_.storage_tries;
    return *storage_.emplace(storage_root, std::move(task)).first->second;
}

void PrefixSync::finish_storage(Task& task) {
    const Hash root = task.root;
    ++progress_.storage_tries_done;
    storage_.erase(root);  // `task` is gone from here on
    if (account_->leaves) {
        account_->leaves->dependency_complete(root);
    } else {
        account_->sync->dependency_complete(root);
    }
}

bool PrefixSync::done() const noexcept {
    if (light()) return light_fetched() && storage_.empty() && code_wanted_.empty();
    return task_complete(*account_);
}

store::Status PrefixSync::spill_status() const {
    if (account_->leaves && !account_->leaves->spill_status().ok()) return account_->leaves->spill_status();
    for (const auto& [root, task] : storage_) {
        if (task->leaves && !task->leaves->spill_status().ok()) return task->leaves->spill_status();
    }
    return {};
}

store::Status PrefixSync::store_status() const {
    if (account_->sync && !account_->sync->store_status().ok()) return account_->sync->store_status();
    for (const auto& [root, task] : storage_) {
        if (task->sync && !task->sync->store_status().ok()) return task->sync->store_status();
    }
    return spill_status();
}

SyncProgress PrefixSync::progress() const {
    SyncProgress p = progress_;
    p.account_fraction =
        1.0 - (account_->leaves ? account_->leaves->remaining_fraction() : account_->sync->remaining_fraction());
    return p;
}

void PrefixSync::on_connect(proto::PeerId peer, proto::Time now) {
    pool_.add(peer);
    stats_.try_emplace(peer);
    pump(now);
}

bool PrefixSync::connection_closed(proto::PeerId peer, const std::string& reason, bool violation) {
    PeerStats& s = stats_[peer];
    if (s.dropped) return false;
    s.closed = true;
    s.gone = "connection closed: " + reason;
    if (violation) {
        ++s.violations;
        penalize(peer, 2);  // as a chunk that does not verify
        if (s.dropped) s.gone += "; the last: " + reason;
    }
    return !s.dropped;
}

void PrefixSync::reconnected(proto::PeerId previous, proto::PeerId peer) {
    auto it = stats_.find(previous);
    if (it == stats_.end() || previous == peer) return;
    PeerStats s = std::move(it->second);
    stats_.erase(it);
    const PeerStats& now = stats_[peer];  // what the new connection did already
    s.requests += now.requests;
    s.answers += now.answers;
    s.bytes_received += now.bytes_received;
    s.rejected_chunks += now.rejected_chunks;
    s.errors += now.errors;
    s.timeouts += now.timeouts;
    s.hedged += now.hedged;
    s.late += now.late;
    s.violations += now.violations;
    s.closed = false;
    s.gone.clear();
    stats_[peer] = std::move(s);
    if (pool_.carry_standing(previous, peer)) drop(peer);
}

void PrefixSync::forget_peer(proto::PeerId peer) {
    for (auto it = requests_.begin(); it != requests_.end();) {
        if (it->second.peer == peer) {
            fail_request(it->second);
            it = requests_.erase(it);
        } else {
            ++it;
        }
    }
    pool_.remove(peer);
    pool_.pause(peer, proto::Time{0});  // a new connection starts unpaused
    lacks_root_.erase(peer);
}

void PrefixSync::on_disconnect(proto::PeerId peer, proto::Time now) {
    forget_peer(peer);
    pump(now);
}

void PrefixSync::penalize(proto::PeerId peer, int amount) {
    if (pool_.strike(peer, amount)) drop(peer);
}

void PrefixSync::drop(proto::PeerId peer) {
    PeerStats& s = stats_[peer];
    s.dropped = true;
    std::string why = "standing fell to " + std::to_string(pool_.standing(peer)) + " (";
    const std::pair<const char*, uint64_t> counts[] = {{"rejected chunks", s.rejected_chunks},
                                                       {"timeouts", s.timeouts},
                                                       {"protocol violations", s.violations},
                                                       {"refusals", s.errors}};
    bool first = true;
    for (const auto& [what, n] : counts) {
        if (n == 0) continue;
        why += (first ? "" : ", ") + std::to_string(n) + " " + what;
        first = false;
    }
    if (first) why += "bad frames";
    why += ")";
    s.gone = "dropped: " + why;
    disconnect(peer, why);
    forget_peer(peer);
}

void PrefixSync::reward_or_penalize(proto::PeerId peer, int demerits) {
    if (demerits > 0) {
        penalize(peer, demerits);
        return;
    }
    ++stats_[peer].answers;
    pool_.reward(peer);
}

void PrefixSync::fail_request(const Request& r) {
    pool_.failed(r.ticket);
    if (!r.hedged) return_work(r);  // a hedged request's work went back when it was hedged
}

void PrefixSync::return_work(const Request& r) {
    if (r.code) {
        for (const Hash& h : r.code_hashes) code_in_flight_.erase(h);
        return;
    }
    Task* task = find_task(r.root);
    if (task == nullptr) return;  // a root the sync moved away from, or a trie already complete
    if (task->leaves) {
        for (const auto& range : r.ranges) task->leaves->return_range(range);
        return;
    }
    for (const auto& p : r.marked) task->in_flight.erase(p);
    if (r.top) task->top_requested = false;
    if (r.is_range) {
        for (std::size_t i = 0; i < r.ranges.size(); ++i) {
            if (i < r.ignored.size() && r.ignored[i] != 0) continue;  // a stream's part followed, not ours
            task->continuations.push_back(r.ranges[i]);
        }
    }
}

std::optional<proto::Time> PrefixSync::hedge_at(const Request& r) const {
    // A stream's frames keep coming on its connection (not re-asked elsewhere), and hedging needs a
    // peer to hedge to.
    if (r.hedged || r.streaming || pool_.peers().size() < 2) return std::nullopt;
    if (!pool_.connected(r.peer)) return std::nullopt;
    const proto::Time own = r.ticket.sent + pool_.rtt_timeout(r.peer);
    // Sooner while another peer sits idle that could take this work (it does not lack the trie):
    // once the request is older than the best peer's round trip allows. A slow peer then does not
    // hold up what a fast one would finish (the last requests of a sync, a trie's top).
    const auto best = pool_.best_rtt_timeout();
    if (!best || r.ticket.sent + *best >= own) return own;
    const proto::Time sooner = r.ticket.sent + *best;
    const Task* task = nullptr;
    if (!r.code) {
        if (r.root == account_->root) {
            task = account_.get();
        } else if (const auto sit = storage_.find(r.root); sit != storage_.end()) {
            task = sit->second.get();
        }
    }
    // Only towards a peer no slower than this one (a slow idle peer would not finish it sooner).
    for (const auto& [id, q] : pool_.peers()) {
        const bool idle = id != r.peer && q.in_flight == 0 && (task == nullptr || task->lacking.count(id) == 0);
        if (idle && pool_.rtt_timeout(id) <= pool_.rtt_timeout(r.peer)) return sooner;
    }
    return own;
}

PrefixSync::Task* PrefixSync::find_task(const Hash& root) {
    if (root == account_->root) return account_.get();
    auto it = storage_.find(root);
    return it == storage_.end() ? nullptr : it->second.get();
}

std::optional<PrefixSync::Request> PrefixSync::next_trie_request(Task& task, proto::PeerId peer) {
    if (task.lacking.count(peer) != 0 || task_fetched(task)) return std::nullopt;
    Request r;
    r.peer = peer;
    r.root = task.root;
    if (task.leaves) {
        r.is_range = true;
        while (r.ranges.size() < options_.prefixes_per_request / 2) {
            auto range = task.leaves->take_range();
            if (!range) break;
            r.ranges.push_back(std::move(*range));
        }
        if (r.ranges.empty()) return std::nullopt;
        return r;
    }
    if (!task.top_requested) {
        task.top_requested = true;
        r.top = true;
        r.ranges.push_back({Nibbles{}, Nibbles{}});
        if (task.sync->frontier().count(Nibbles{}) != 0) {
            task.in_flight.insert(Nibbles{});
            r.marked.emplace_back();
        }
        return r;
    }
    if (!task.continuations.empty()) {
        r.is_range = true;
        while (!task.continuations.empty() && r.ranges.size() < options_.prefixes_per_request / 2) {
            r.ranges.push_back(task.continuations.front());
            task.continuations.pop_front();
        }
        for (const auto& range : r.ranges) {
            for (auto it = task.sync->frontier().lower_bound(range.from); it != task.sync->frontier().end(); ++it) {
                if (!trie::intersects(it->first, range)) break;
                if (task.in_flight.insert(it->first).second) r.marked.push_back(it->first);
            }
        }
        return r;
    }
    // pump() asks every open trie for work on every answer, so this is hot: a trie whose frontier
    // is all in flight answers at once, and the others walk the frontier and the in-flight set
    // together (both are in position order) instead of looking each position up. (A mark can
    // outlive its position briefly, when another answer filled it; the check below then waits for
    // that request to end, which pumps again.)
    const auto& frontier = task.sync->frontier();
    if (task.in_flight.size() >= frontier.size()) return std::nullopt;
    const bool focus = light() && &task == account_.get();
    auto busy = task.in_flight.begin();
    for (const auto& [pos, hash] : frontier) {
        while (busy != task.in_flight.end() && *busy < pos) ++busy;
        if (busy != task.in_flight.end() && *busy == pos) continue;
        if (focus && !light_focus(pos)) continue;
        r.ranges.push_back({pos, pos});
        r.marked.push_back(pos);
        task.in_flight.insert(busy, pos);
        if (r.ranges.size() == options_.prefixes_per_request) break;
    }
    if (r.ranges.empty()) return std::nullopt;
    return r;
}

bool PrefixSync::issue(proto::PeerId peer, proto::Time now) {
    // Storage and code before more of the account trie: an account-trie subtree is stored (and so
    // survives a restart) only once its accounts' storage and code are in, so finishing those first
    // keeps completed work durable and the set of open storage tries small.
    std::optional<Request> r;
    for (auto& [root, task] : storage_) {
        r = next_trie_request(*task, peer);
        if (r) break;
    }
    if (!r && !code_wanted_.empty()) {
        Request c;
        c.peer = peer;
        c.code = true;
        for (const Hash& h : code_wanted_) {
            if (code_in_flight_.count(h) != 0) continue;
            c.code_hashes.push_back(h);
            if (c.code_hashes.size() == options_.code_per_request) break;
        }
        if (!c.code_hashes.empty()) {
            for (const Hash& h : c.code_hashes) code_in_flight_.insert(h);
            r = std::move(c);
        }
    }
    if (!r) r = next_trie_request(*account_, peer);
    if (!r) return false;
    const uint64_t id = pool_.next_id();
    if (r->code) {
        send(peer, proto::encode(proto::GetCode{id, r->code_hashes, options_.max_response_bytes}));
    } else {
        const Task* task = find_task(r->root);  // the request was just made from it
        proto::GetChunks m;
        m.request_id = id;
        m.root = r->root;
        m.account = task->account;
        m.is_range = r->is_range;
        for (const auto& range : r->ranges) {
            m.prefixes.push_back(range.from);
            if (r->is_range) m.prefixes.push_back(range.to);
        }
        m.max_size = options_.max_response_bytes;
        m.flags = task->leaves ? proto::kFlagLeaves : (r->top ? 0 : proto::kFlagSkipStem);
        // Streaming (full mode, below the top): the server sends a cut entry's continuations
        // without being asked again.
        if (options_.stream && !task->leaves && !r->top) m.flags |= proto::kFlagStream;
        r->flags = m.flags;
        send(peer, proto::encode(m));
    }
    r->ticket = pool_.issue(id, peer, now);
    ++stats_[peer].requests;
    ++progress_.requests;
    requests_.emplace(id, std::move(*r));
    return true;
}

void PrefixSync::pump(proto::Time now) {
    // Round robin, one request per peer per pass: when there is little work (the start, the end of
    // a trie) it spreads over every peer instead of filling the first one's slots.
    // Each pass starts after the peer that got the last request, so no peer is always last.
    bool issued = true;
    const auto& peers = pool_.peers();
    while (issued && !peers.empty()) {
        issued = false;
        auto it = peers.upper_bound(last_peer_);
        for (std::size_t n = 0; n < peers.size(); ++n, ++it) {
            if (it == peers.end()) it = peers.begin();
            const proto::PeerId peer = it->first;
            if (pool_.has_room(peer, now) && issue(peer, now)) {
                issued = true;
                last_peer_ = peer;
            }
        }
    }
}

void PrefixSync::move_to_root(const Hash& root) {
    root_ = root;
    lacks_root_.clear();
    ++progress_.root_moves;
    // What was verified under the old root and is not stored yet: the waiting nodes of a full-mode
    // trie, or the nodes built from a leaf-mode trie's verified leaves. The new root's trie takes
    // each one it references instead of fetching it, and fetches the rest as whole sub-tries: that
    // is the healing of a moved root, and in leaf mode also the rest of the account trie (its
    // storage tries stay in leaf mode). The accounts are counted again as the new trie verifies
    // them; nothing of a leaf-mode account trie was stored before, so the count stays exact.
    const bool leaf_mode = account_->leaves != nullptr;
    auto held = leaf_mode ? account_->leaves->take_built_nodes() : account_->sync->take_waiting();
    if (leaf_mode) progress_.accounts = 0;
    make_account_task(root, /*leaf_mode=*/false);
    account_->sync->adopt(std::move(held));
    // Peers that lacked a storage trie under the old root may well serve it under the new one.
    for (auto& [r, task] : storage_) task->lacking.clear();
    // Storage tasks carry over: the tries of unchanged accounts are the same tries, and the new
    // account trie names them as dependencies again as its nodes arrive.
}

void PrefixSync::handle_chunks(proto::PeerId from, const proto::ChunkData& data, std::size_t frame_size,
                               proto::Time now) {
    auto it = requests_.find(data.request_id);
    if (it == requests_.end() || it->second.peer != from || it->second.code) {
        penalize(from, 1);  // an answer to nothing we asked (or a streamed continuation we did not ask for)
        return;
    }
    stats_[from].bytes_received += frame_size;
    progress_.bytes_received += frame_size;
    if (it->second.hedged) {
        take_late(it, now);
        return;
    }
    if (!it->second.streaming) pool_.measure(from, now - it->second.ticket.sent);
    if (it->second.streaming) {
        handle_stream_frame(from, it, data, now);
        return;
    }
    const Request r = std::move(it->second);
    requests_.erase(it);
    pool_.answered(r.ticket, now, frame_size);  // a quick answer grows the peer's window

    Task* task = find_task(r.root);
    const bool is_account = task == account_.get();
    if (task == nullptr) return;  // answer for a root the sync left, or a trie completed meanwhile
    if (data.entries.size() != r.ranges.size()) {
        penalize(from, 2);
        return_work(r);  // its slot is free already
        return;
    }
    if (task->leaves) {
        handle_leaf_entries(from, r, data, *task, now);
        return;
    }
    for (const auto& p : r.marked) task->in_flight.erase(p);
    if (r.top) task->top_requested = true;
    const bool streamed = (r.flags & proto::kFlagStream) != 0;
    Request stream;  // the continuations the server goes on sending, when streamed
    int demerits = 0;
    bool requeue_top = false;
    for (std::size_t i = 0; i < data.entries.size(); ++i) {
        const proto::ChunkEntry& e = data.entries[i];
        const trie::PathRange& range = r.ranges[i];
        const EntryResult result = take_entry(from, *task, r.top, r.is_range, e, range, demerits, now);
        if (result == EntryResult::kMoved) {
            // `task` is gone. The streams of this answer still come: follow them without taking.
            if (streamed) follow_stream(data, r, from, now);
            return;
        }
        if (result == EntryResult::kRejected && r.top) requeue_top = true;
        // A server streams the continuation of every entry it cut, whatever became of it here.
        if (streamed && !e.error && e.stop_path) {
            stream.ranges.push_back({*e.stop_path, range.to});
            stream.ignored.push_back(result != EntryResult::kContinues);
        } else if (result == EntryResult::kContinues) {
            task->continuations.push_back({*e.stop_path, range.to});
        }
    }
    if (requeue_top && task->sync->frontier().count(Nibbles{}) != 0) task->top_requested = false;
    if (!stream.ranges.empty()) {
        stream.peer = from;
        stream.ticket = pool_.issue(data.request_id, from, now);  // the stream keeps the request's slot
        stream.root = r.root;
        stream.is_range = true;
        stream.streaming = true;
        mark_stream(*task, stream);
        requests_.emplace(data.request_id, std::move(stream));
    }
    settle(from, *task, is_account, demerits, now);
}

PrefixSync::EntryResult PrefixSync::take_entry(proto::PeerId from, Task& task, bool top, bool is_range,
                                               const proto::ChunkEntry& e, const trie::PathRange& range, int& demerits,
                                               proto::Time now) {
    const bool is_account = &task == account_.get();
    if (e.error) {
        ++stats_[from].errors;
        switch (*e.error) {
            case proto::ChunkError::kUnknownRoot:
                if (is_account && can_move_to(e)) {
                    move_to_root(to_hash(e.error_data));
                    pump(now);
                    return EntryResult::kMoved;
                }
                if (is_account) note_unknown_root(from, e);
                task.lacking.insert(from);
                break;
            case proto::ChunkError::kNoChunk:
                task.lacking.insert(from);
                break;
            case proto::ChunkError::kBackOff:
                pool_.pause(from, now + options_.back_off);
                break;
            case proto::ChunkError::kInvalidRequest:
                ++demerits;
                break;
        }
        if (is_range) task.continuations.push_back(range);
        return EntryResult::kRejected;
    }
    if (is_account) lacks_root_.erase(from);  // it serves the root after all
    if (e.leaf_mode) {
        ++demerits;  // full mode was asked for
        if (is_range) task.continuations.push_back(range);
        return EntryResult::kRejected;
    }
    progress_.nodes_received += e.nodes.size();
    for (const auto& n : e.nodes) progress_.node_bytes_received += n.size();
    const std::size_t before = task.sync->accepted_bytes();
    auto accepted = task.sync->accept(e.nodes);
    if (!accepted) {
        ++stats_[from].rejected_chunks;
        demerits += 2;
        if (is_range) task.continuations.push_back(range);
        return EntryResult::kRejected;
    }
    const std::size_t got = task.sync->accepted_bytes() - before;
    (is_account ? progress_.bytes_account_nodes : progress_.bytes_storage_nodes) += got;
    // Light mode follows only the wanted paths: the frontier holds what the cut left out.
    if (!e.stop_path || top || (light() && is_account)) return EntryResult::kDone;
    // Continue where the server stopped: it must lie inside the range asked for.
    if (trie::pad(*e.stop_path, 0) < trie::pad(range.from, 0) || !trie::intersects(*e.stop_path, range)) {
        ++demerits;
        return EntryResult::kDone;
    }
    return EntryResult::kContinues;
}

void PrefixSync::handle_stream_frame(proto::PeerId from, std::map<uint64_t, Request>::iterator it,
                                     const proto::ChunkData& data, proto::Time now) {
    Request& r = it->second;
    auto close = [&] {
        pool_.failed(r.ticket);
        requests_.erase(it);
    };
    // One entry a frame, continuing one of the cut entries: its prefix is where that one stopped.
    const auto at = data.entries.size() == 1
                        ? std::find_if(r.ranges.begin(), r.ranges.end(),
                                       [&](const trie::PathRange& p) { return p.from == data.entries[0].prefix; })
                        : r.ranges.end();
    Task* task = find_task(r.root);
    if (at == r.ranges.end()) {
        const Request failed = std::move(r);
        close();
        return_work(failed);  // close() freed its slot
        penalize(from, 2);
        return;
    }
    const std::size_t index = static_cast<std::size_t>(at - r.ranges.begin());
    const proto::ChunkEntry& e = data.entries[0];
    const bool more = !e.error && e.stop_path.has_value();  // the server goes on with this one
    pool_.touch(r.ticket, now);
    // Moves the stream past this frame: its range goes on from the new stop path (followed without
    // taking if `ignored`), or is finished. Then the request closes when no range is left.
    const auto advance = [&](bool ignored) {
        if (more) {
            at->from = *e.stop_path;
            r.ignored[index] = ignored ? 1 : 0;
        } else {
            r.ranges.erase(at);
            r.ignored.erase(r.ignored.begin() + static_cast<std::ptrdiff_t>(index));
        }
        const bool open = !r.ranges.empty();
        if (!open) close();  // `r` is gone from here on
        return open;
    };
    if (task == nullptr || task->leaves || r.ignored[index]) {
        // Not ours to judge any more (the trie is done, the sync moved, or an earlier part of this
        // range was refused): follow the stream to its end without taking anything.
        advance(true);
        return;
    }
    for (const auto& p : r.marked) task->in_flight.erase(p);
    r.marked.clear();
    const trie::PathRange range = *at;
    if (e.error == proto::ChunkError::kBackOff) {
        // The server's stream budget ran out: this range is asked again, from anyone (not an
        // offence, and no reason to pause the peer).
        task->continuations.push_back(range);
        if (advance(false)) mark_stream(*task, r);
        pump(now);
        return;
    }
    int demerits = 0;
    const EntryResult result = take_entry(from, *task, false, true, e, range, demerits, now);
    if (result == EntryResult::kMoved) {
        // The sync moved (`task` is gone): the rest of this stream is followed, not taken.
        std::fill(r.ignored.begin(), r.ignored.end(), 1);
        advance(true);
        return;
    }
    const bool is_account = task == account_.get();
    if (advance(result != EntryResult::kContinues)) mark_stream(*task, r);
    settle(from, *task, is_account, demerits, now);
}

void PrefixSync::follow_stream(const proto::ChunkData& data, const Request& asked, proto::PeerId from,
                               proto::Time now) {
    Request stream;
    for (std::size_t i = 0; i < data.entries.size() && i < asked.ranges.size(); ++i) {
        const proto::ChunkEntry& e = data.entries[i];
        if (e.error || !e.stop_path) continue;
        stream.ranges.push_back({*e.stop_path, asked.ranges[i].to});
        stream.ignored.push_back(1);
    }
    if (stream.ranges.empty()) return;
    stream.peer = from;
    stream.ticket = pool_.issue(data.request_id, from, now);
    stream.root = asked.root;
    stream.is_range = true;
    stream.streaming = true;
    requests_.emplace(data.request_id, std::move(stream));
}

void PrefixSync::mark_stream(Task& task, Request& r) {
    // The frontier positions the stream will fill are in flight, as for a continuation asked for.
    for (std::size_t i = 0; i < r.ranges.size(); ++i) {
        if (r.ignored[i]) continue;
        const auto& frontier = task.sync->frontier();
        for (auto f = frontier.lower_bound(r.ranges[i].from); f != frontier.end(); ++f) {
            if (!trie::intersects(f->first, r.ranges[i])) break;
            if (task.in_flight.insert(f->first).second) r.marked.push_back(f->first);
        }
    }
}

void PrefixSync::settle(proto::PeerId from, Task& task, bool is_account, int demerits, proto::Time now) {
    reward_or_penalize(from, demerits);
    if (!is_account && task_complete(task)) finish_storage(task);
    pump(now);
}

void PrefixSync::handle_leaf_entries(proto::PeerId from, const Request& r, const proto::ChunkData& data, Task& task,
                                     proto::Time now) {
    const bool is_account = &task == account_.get();
    int demerits = 0;
    for (std::size_t i = 0; i < data.entries.size(); ++i) {
        const proto::ChunkEntry& e = data.entries[i];
        const trie::PathRange& range = r.ranges[i];
        if (e.error) {
            ++stats_[from].errors;
            if (is_account && can_move_to(e)) {
                move_to_root(to_hash(e.error_data));
                pump(now);
                return;
            }
            if (*e.error == proto::ChunkError::kBackOff) {
                pool_.pause(from, now + options_.back_off);
            } else if (*e.error == proto::ChunkError::kInvalidRequest) {
                ++demerits;
            } else {
                if (is_account && *e.error == proto::ChunkError::kUnknownRoot) note_unknown_root(from, e);
                task.lacking.insert(from);
            }
            task.leaves->return_range(range);
            continue;
        }
        if (is_account) lacks_root_.erase(from);  // it serves the root after all
        if (!e.leaf_mode) {
            ++demerits;
            task.leaves->return_range(range);
            continue;
        }
        if (e.stop_path && e.keys.empty()) {
            task.leaves->return_range(range);  // the response ran out of room before this range
            continue;
        }
        progress_.nodes_received += e.proof.size();
        for (const auto& n : e.proof) progress_.node_bytes_received += n.size();
        auto accepted = task.leaves->accept(range, e);
        if (!accepted) {
            ++stats_[from].rejected_chunks;
            demerits += 2;
            task.leaves->return_range(range);
            continue;
        }
        std::size_t bytes = 0;
        for (const auto& v : e.values) bytes += v.size() + 32;
        (is_account ? progress_.bytes_account_nodes : progress_.bytes_storage_nodes) += bytes;
    }
    reward_or_penalize(from, demerits);
    if (!is_account && task.leaves->complete()) finish_storage(task);
    pump(now);
}

void PrefixSync::handle_code(proto::PeerId from, const proto::CodeData& data, std::size_t frame_size, proto::Time now) {
    auto it = requests_.find(data.request_id);
    if (it == requests_.end() || it->second.peer != from || !it->second.code) {
        penalize(from, 1);
        return;
    }
    stats_[from].bytes_received += frame_size;
    progress_.bytes_received += frame_size;
    if (it->second.hedged) {
        take_late(it, now);
        return;
    }
    pool_.measure(from, now - it->second.ticket.sent);
    const Request r = std::move(it->second);
    requests_.erase(it);
    fail_request(r);  // releases the in-flight marks; what arrived is taken below
    std::size_t useful = 0;
    for (const Bytes& c : data.codes) {
        const Hash h = keccak256(c);
        if (code_wanted_.erase(h) == 0) continue;
        code_.put_code(h, c);
        progress_.bytes_code += c.size();
        ++progress_.code_done;
        ++useful;
        if (account_->leaves) {
            account_->leaves->dependency_complete(h);
        } else {
            account_->sync->dependency_complete(h);
        }
    }
    if (useful == 0 && !r.code_hashes.empty()) {
        penalize(from, 1);
    } else {
        ++stats_[from].answers;
    }
    pump(now);
}

void PrefixSync::take_late(std::map<uint64_t, Request>::iterator it, proto::Time now) {
    const proto::PeerId from = it->second.peer;
    ++stats_[from].late;
    pool_.measure(from, now - it->second.ticket.sent);  // it is slow, not silent: its deadline grows
    const Request r = std::move(it->second);
    requests_.erase(it);
    fail_request(r);  // frees its slot; its work went to another peer when it was hedged
    pump(now);
}

void PrefixSync::on_frame(proto::PeerId from, ByteView frame, proto::Time now) {
    auto type = proto::frame_type(frame);
    if (!type) {
        penalize(from, 4);
        return;
    }
    if (*type == proto::MessageType::kChunkData) {
        auto data = proto::decode_chunk_data(frame);
        if (!data) {
            penalize(from, 4);
            return;
        }
        handle_chunks(from, *data, frame.size(), now);
    } else if (*type == proto::MessageType::kCodeData) {
        auto data = proto::decode_code_data(frame);
        if (!data) {
            penalize(from, 4);
            return;
        }
        handle_code(from, *data, frame.size(), now);
    } else {
        penalize(from, 1);  // a client does not serve
    }
}

std::optional<proto::Time> PrefixSync::next_deadline() const {
    std::optional<proto::Time> next;
    for (const auto& [id, r] : requests_) {
        const proto::Time t = hedge_at(r).value_or(r.ticket.sent + options_.request_timeout);
        if (!next || t < *next) next = t;
    }
    if (const auto resume = pool_.next_resume(); resume && (!next || *resume < *next)) next = resume;
    if (!done() && (!next || lacking_reset_at_ < *next)) next = lacking_reset_at_;
    return next;
}

void PrefixSync::on_timer(proto::Time now) {
    std::vector<uint64_t> expired;
    for (auto& [id, r] : requests_) {
        if (r.ticket.sent + options_.request_timeout <= now) {
            expired.push_back(id);
            continue;
        }
        const auto at = hedge_at(r);
        if (!at || *at > now) continue;
        // Hedge: its work goes back to the pool now, for the next free peer; the request keeps this
        // peer's slot, and the peer's window falls to one at once (a stalling peer gets nothing more
        // while it holds the request; an honest one that was only slow earns its window back).
        r.hedged = true;
        return_work(r);
        ++stats_[r.peer].hedged;
        pool_.hedge(r.peer);
    }
    for (uint64_t id : expired) {
        auto it = requests_.find(id);
        if (it == requests_.end()) continue;
        const Request r = std::move(it->second);
        requests_.erase(it);
        ++stats_[r.peer].timeouts;
        pool_.timed_out(r.ticket);  // halves the peer's window
        if (!r.hedged) return_work(r);
        penalize(r.peer, 2);
    }
    pool_.clear_pauses(now);
    // A peer that lacked a trie may have caught up (a partially synced server): ask again now and then.
    if (now >= lacking_reset_at_) {
        account_->lacking.clear();
        for (auto& [r, task] : storage_) task->lacking.clear();
        lacking_reset_at_ = now + options_.lacking_retry;
    }
    pump(now);
}

}  // namespace carousel::prefix
