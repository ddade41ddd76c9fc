// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "epoch_store.hpp"

#include <algorithm>
#include <set>
#include <unordered_set>

#include <carousel/core/assert.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/state/account.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/proof.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::mgr {

std::string_view to_string(DiffServeError e) noexcept {
    switch (e) {
        case DiffServeError::kUnknownRoot:
            return "unknown root";
        case DiffServeError::kNotHeld:
            return "range not held";
        case DiffServeError::kBadNode:
            return "bad node";
    }
    return "unknown diff error";
}

namespace {

// Candidate nodes (from an item or a joining node's peers) over the held ones: the walks read both,
// the candidates first.
class Overlay final : public trie::NodeStore {
  public:
    Overlay(const NodeMap& extra, const trie::NodeStore* base) : extra_{extra}, base_{base} {}
    std::optional<Bytes> get_node(const Hash& hash) const override {
        if (auto it = extra_.find(hash); it != extra_.end()) return it->second;
        return base_ != nullptr ? base_->get_node(hash) : std::nullopt;
    }
    void put_node(const Hash&, ByteView) override {}

  private:
    const NodeMap& extra_;
    const trie::NodeStore* base_;
};

GossipError walk_error(PartialError e) {
    return e == PartialError::kMissingNode ? GossipError::kIncomplete : GossipError::kBadNode;
}

// Hashes a list of peer nodes into `out`. Every node must decode and be at least 32 bytes long
// (shorter ones are embedded in their parent); a node twice in the list is an error.
tl::expected<void, GossipError> add_nodes(const std::vector<Bytes>& nodes, NodeMap& out) {
    HashSet seen;
    for (const Bytes& n : nodes) {
        if (n.size() < 32 || n.size() > kMaxNodeSize || !trie::decode_node(n)) {
            return tl::unexpected{GossipError::kBadNode};
        }
        const Hash h = keccak256(n);
        if (!seen.insert(h).second) return tl::unexpected{GossipError::kDuplicateNode};
        out.try_emplace(h, n);
    }
    return {};
}

// The storage root in an account leaf value; nullopt if it is not an account.
std::optional<Hash> storage_root_in(ByteView value) {
    auto a = state::decode_account(value);
    if (!a || !value.empty()) return std::nullopt;
    return a->storage_root;
}

}  // namespace

EpochStore::EpochStore(Region region, uint64_t epoch_length, std::unique_ptr<EpochNodes> nodes)
    : region_{region},
      epoch_length_{epoch_length},
      nodes_{nodes != nullptr ? std::move(nodes) : std::make_unique<MemoryEpochNodes>()} {
    CAROUSEL_ASSERT(epoch_length_ >= 1, "an epoch is at least one block");
}

void EpochStore::put_node(const Hash& hash, ByteView rlp) {
    if (nodes_->add(hash, rlp)) bytes_ += rlp.size();
}

uint64_t EpochStore::head_number() const noexcept { return head_ ? head_->number : 0; }
Hash EpochStore::head_root() const noexcept { return head_ ? head_->root : trie::kEmptyRoot; }
uint64_t EpochStore::epoch_number() const noexcept { return epoch_ ? epoch_->number : 0; }
Hash EpochStore::epoch_root() const noexcept { return epoch_ ? epoch_->root : trie::kEmptyRoot; }
std::optional<uint64_t> EpochStore::previous_epoch_number() const noexcept {
    return previous_ ? std::optional<uint64_t>{previous_->number} : std::nullopt;
}
std::optional<Hash> EpochStore::previous_epoch_root() const noexcept {
    return previous_ ? std::optional<Hash>{previous_->root} : std::nullopt;
}

const EpochStore::Version* EpochStore::version_of(const Hash& state_root) const noexcept {
    for (const auto* v : {&head_, &epoch_, &previous_}) {
        if (*v && (*v)->root == state_root) return &**v;
    }
    for (const Version& v : recent_heads_) {
        if (v.root == state_root) return &v;
    }
    return nullptr;
}

bool EpochStore::keeps(const Hash& state_root) const noexcept { return version_of(state_root) != nullptr; }

bool EpochStore::known_root(const Hash& root) const noexcept {
    if (keeps(root) || recent_roots_.contains(root) || recent_storage_roots_.contains(root)) return true;
    if (before_boundary_ && before_boundary_->root == root) return true;
    for (const auto* v : {&head_, &epoch_, &previous_, &before_boundary_}) {
        if (!*v) continue;
        if ((*v)->storage_roots.any_of([&](const Hash&, const Hash& storage) { return storage == root; })) return true;
    }
    return false;
}

std::optional<Hash> EpochStore::storage_root(const Hash& account, const Hash& state_root) const {
    const Version* v = version_of(state_root);
    if (v == nullptr) return std::nullopt;
    return v->storage_roots.find(account).value_or(trie::kEmptyRoot);
}

std::vector<std::pair<Hash, Hash>> EpochStore::owners(const Hash& state_root, const Hash& from, std::size_t max) const {
    const Version* v = version_of(state_root);
    if (v == nullptr) return {};
    return v->storage_roots.list(from, max);
}

std::size_t EpochStore::owner_bytes() const noexcept {
    std::size_t sum = 0;
    std::vector<const OwnerSet*> counted;
    for (const auto* v : {&head_, &epoch_, &previous_, &before_boundary_}) {
        if (!*v) continue;
        const OwnerSet& set = (*v)->storage_roots;
        const bool shared =
            std::any_of(counted.begin(), counted.end(), [&](const OwnerSet* c) { return c->shares_base(set); });
        sum += set.heap_bytes(!shared);
        counted.push_back(&set);
    }
    return sum;
}

tl::expected<Owners, PartialError> owners_of(const trie::NodeStore& full, const Hash& root) {
    Owners owners;
    if (root == trie::kEmptyRoot) return owners;
    trie::ReadOnlyNodeStore ro{full};
    trie::Trie t{&ro, root};
    bool bad = false;
    auto walked = t.for_each([&](ByteView key, ByteView value) {
        auto s = storage_root_in(value);
        if (!s || key.size() != 32) {
            bad = true;
            return;
        }
        if (*s != trie::kEmptyRoot) owners.emplace(to_hash(key), *s);
    });
    if (!walked) {
        return tl::unexpected{walked.error() == trie::TrieError::kMissingNode ? PartialError::kMissingNode
                                                                              : PartialError::kBadNode};
    }
    if (bad) return tl::unexpected{PartialError::kBadNode};
    return owners;
}

void EpochStore::install(const NodeMap& nodes, std::size_t bytes, Version v) {
    nodes_->replace(nodes);
    bytes_ = bytes;
    head_ = v;
    epoch_ = std::move(v);
    previous_.reset();
    forget_recent();
}

tl::expected<void, PartialError> EpochStore::seed(const trie::NodeStore& full, uint64_t number, const Hash& root) {
    auto owners = owners_of(full, root);
    if (!owners) return tl::unexpected{owners.error()};
    return seed(full, number, root, *owners);
}

tl::expected<void, PartialError> EpochStore::seed(const trie::NodeStore& full, uint64_t number, const Hash& root,
                                                  const Owners& owners) {
    NodeMap copied;
    std::size_t bytes = 0;
    auto keep = [&](ByteView, const Hash& h, ByteView rlp) {
        if (copied.try_emplace(h, rlp).second) bytes += rlp.size();
    };
    if (auto r = for_each_partial_node(full, root, path_range(region_), keep); !r) return r;
    std::vector<OwnerSet::Entry> present;
    for (const auto& [account, storage] : owners) {
        const trie::PathRange range = path_range(storage_region(region_, account));
        auto here = has_leaf_in(full, storage, range);
        if (!here) return tl::unexpected{here.error()};
        if (!*here) continue;
        if (auto r = for_each_partial_node(full, storage, range, keep); !r) return r;
        present.emplace_back(account, storage);
    }
    install(copied, bytes, Version{number, root, OwnerSet{std::move(present)}});
    commit_install();
    return {};
}

tl::expected<void, GossipError> EpochStore::adopt(uint64_t number, const Hash& root,
                                                  std::vector<Bytes> account_partial_nodes,
                                                  std::vector<std::pair<Hash, Hash>> owners,
                                                  std::vector<Bytes> storage_partial_nodes) {
    for (std::size_t i = 1; i < owners.size(); ++i) {
        if (!(owners[i - 1].first < owners[i].first)) return tl::unexpected{GossipError::kOwnersNotIncreasing};
    }
    NodeMap given;
    if (auto r = add_nodes(account_partial_nodes, given); !r) return r;
    NodeMap storage_given;
    if (auto r = add_nodes(storage_partial_nodes, storage_given); !r) return r;
    for (auto& [h, n] : storage_given) given.try_emplace(h, std::move(n));
    const Overlay candidates{given, nullptr};

    NodeMap kept;
    std::size_t bytes = 0;
    auto keep = [&](ByteView, const Hash& h, ByteView rlp) {
        if (kept.try_emplace(h, rlp).second) bytes += rlp.size();
    };
    const trie::PathRange range = path_range(region_);
    if (auto r = for_each_partial_node(candidates, root, range, keep); !r) return tl::unexpected{walk_error(r.error())};
    std::erase_if(owners, [](const auto& o) { return o.second == trie::kEmptyRoot; });
    std::vector<OwnerSet::Entry> present;
    for (const auto& [account, storage] : owners) {
        const trie::PathRange storage_range = path_range(storage_region(region_, account));
        auto r = for_each_partial_node(candidates, storage, storage_range, keep);
        if (!r) return tl::unexpected{walk_error(r.error())};
        auto here = has_leaf_in(candidates, storage, storage_range);
        if (!here) return tl::unexpected{walk_error(here.error())};
        if (!*here) return tl::unexpected{GossipError::kNotPresent};
        present.emplace_back(account, storage);
    }
    Version v{number, root, OwnerSet{std::move(present)}};
    // The accounts inside the region: their leaves are here, and a listed one must agree with them.
    // One not listed is taken as not present here (its absence cannot be checked without the stem
    // of its storage trie, which the store does not keep).
    auto leaves = leaves_in(candidates, root, range);
    if (!leaves) return tl::unexpected{walk_error(leaves.error())};
    for (const auto& [key, value] : *leaves) {
        auto s = storage_root_in(value);
        if (!s) return tl::unexpected{GossipError::kBadNode};
        const auto listed = v.storage_roots.find(key);
        if (listed && *listed != *s) return tl::unexpected{GossipError::kMissingOwner};
    }
    install(kept, bytes, std::move(v));
    commit_install();
    return {};
}

tl::expected<void, GossipError> EpochStore::apply(const RegionItem& item, const Hash& trusted_root) {
    if (!head_) return tl::unexpected{GossipError::kNotSeeded};
    if (item.block_number != head_->number + 1) return tl::unexpected{GossipError::kWrongBlock};
    if (!(item.region == region_)) return tl::unexpected{GossipError::kWrongRegion};
    if (item.state_root != trusted_root) return tl::unexpected{GossipError::kRootMismatch};
    for (std::size_t i = 1; i < item.owners.size(); ++i) {
        if (!(item.owners[i - 1] < item.owners[i])) return tl::unexpected{GossipError::kOwnersNotIncreasing};
    }
    if (item.storage_nodes.size() != item.owners.size()) return tl::unexpected{GossipError::kLengthMismatch};

    // The item's nodes, by hash.
    NodeMap sent;
    if (auto r = add_nodes(item.account_nodes, sent); !r) return r;
    for (const auto& list : item.storage_nodes) {
        if (auto r = add_nodes(list, sent); !r) return r;
    }

    // The owners' new storage roots, from the proof against the trusted root.
    std::vector<Bytes> keys;
    keys.reserve(item.owners.size());
    for (const Hash& o : item.owners) keys.emplace_back(view(o));
    auto values = trie::verify_multiproof(trusted_root, keys, item.owner_proof);
    if (!values) return tl::unexpected{GossipError::kBadOwnerProof};
    std::vector<Hash> new_storage;
    new_storage.reserve(item.owners.size());
    for (const auto& value : *values) {
        if (!value) {
            new_storage.push_back(trie::kEmptyRoot);
            continue;
        }
        auto s = storage_root_in(*value);
        if (!s) return tl::unexpected{GossipError::kBadOwnerProof};
        new_storage.push_back(*s);
    }

    // The new head's partial tries must resolve from what is held and what was sent. The walks
    // descend only through positions whose node changed (the held head is complete below the rest),
    // and name every node the new version needs that the head does not have at its position.
    // An owner's storage trie is walked against the root the store holds for it, which is the empty
    // root when it was not present in the region: the item then carries its whole new partial trie
    // (the stem too, which proves absence), as the bridge sends it (mgr/bridge.hpp).
    const Overlay store{sent, this};
    HashSet used;  // sent nodes any new partial trie needs
    HashSet kept;  // sent nodes the account trie or a storage trie present at the new root needs
    bool keeping = true;
    auto mark = [&](ByteView, const Hash& h, ByteView) {
        if (sent.count(h) == 0) return;
        used.insert(h);
        if (keeping) kept.insert(h);
    };
    const trie::PathRange range = path_range(region_);
    if (auto r = for_each_changed_partial_node(store, head_->root, trusted_root, range, mark); !r) {
        return tl::unexpected{walk_error(r.error())};
    }
    // Every account inside the region whose storage root changed must be an owner (the region's own
    // account leaves show it, before and after; outside the region the store cannot tell).
    auto changed = changed_leaves(store, head_->root, trusted_root, range);
    if (!changed) return tl::unexpected{walk_error(changed.error())};
    auto before = changed_leaves(store, trusted_root, head_->root, range);  // the same keys, old values
    if (!before) return tl::unexpected{walk_error(before.error())};
    const auto storage_of = [](const Bytes& value) -> std::optional<Hash> {
        if (value.empty()) return trie::kEmptyRoot;
        return storage_root_in(value);
    };
    for (std::size_t k = 0; k < changed->size(); ++k) {
        const auto now = storage_of((*changed)[k].second);
        const bool same_key = k < before->size() && (*before)[k].first == (*changed)[k].first;
        const auto was = same_key ? storage_of((*before)[k].second) : std::nullopt;
        if (!now || !was) return tl::unexpected{GossipError::kBadNode};
        if (*now == *was) continue;
        const Hash& key = (*changed)[k].first;
        auto it = std::lower_bound(item.owners.begin(), item.owners.end(), key);
        if (it == item.owners.end() || *it != key) return tl::unexpected{GossipError::kMissingOwner};
    }
    std::vector<bool> present(item.owners.size(), false);
    for (std::size_t i = 0; i < item.owners.size(); ++i) {
        const Hash was = head_->storage_roots.find(item.owners[i]).value_or(trie::kEmptyRoot);
        const trie::PathRange storage_range = path_range(storage_region(region_, item.owners[i]));
        auto here = has_leaf_in(store, new_storage[i], storage_range);
        if (!here) return tl::unexpected{walk_error(here.error())};
        present[i] = *here;
        keeping = *here;
        auto r = for_each_changed_partial_node(store, was, new_storage[i], storage_range, mark);
        if (!r) return tl::unexpected{walk_error(r.error())};
    }
    if (used.size() != sent.size()) return tl::unexpected{GossipError::kUnusedNode};

    // Commit.
    for (auto& [h, n] : sent) {
        if (kept.contains(h)) put_node(h, n);
    }
    VersionRecord change{trusted_root, {}};
    change.owners.reserve(item.owners.size());
    for (std::size_t i = 0; i < item.owners.size(); ++i) {
        change.owners.emplace_back(item.owners[i], present[i] ? new_storage[i] : trie::kEmptyRoot);
    }
    const uint64_t old_base = replay_base();
    const std::optional<uint64_t> old_previous = previous_epoch_number();
    const bool boundary = advance(item.block_number, change);
    if (boundary) collect_garbage();
    commit_block(item.block_number, change, old_base, old_previous);
    return {};
}

bool EpochStore::advance(uint64_t number, const VersionRecord& change) {
    const bool boundary = number % epoch_length_ == 0;
    before_boundary_.reset();
    if (boundary) before_boundary_ = head_;
    recent_heads_.push_back(*head_);
    if (recent_heads_.size() > kRecentHeads) recent_heads_.pop_front();
    head_->number = number;
    head_->root = change.root;
    recent_roots_.insert(change.root);
    for (const auto& [account, storage] : change.owners) {
        head_->storage_roots.set(account, storage);
        if (storage != trie::kEmptyRoot) recent_storage_roots_.insert(storage);
    }
    if (boundary) {
        head_->storage_roots.compact();  // the epoch and the head share the base until the next boundary
        previous_ = std::move(epoch_);
        epoch_ = head_;
        recent_heads_.clear();  // their nodes are swept (the one just before is before_boundary_)
        recent_roots_.clear();
        recent_storage_roots_.clear();
    }
    return boundary;
}

uint64_t EpochStore::replay_base() const noexcept { return before_boundary_ ? previous_->number : epoch_->number; }

HeadRecord EpochStore::head_record() const {
    return HeadRecord{.epoch_length = epoch_length_,
                      .head = head_->number,
                      .latest = epoch_->number,
                      .previous = previous_epoch_number(),
                      .before_boundary = before_boundary_.has_value()};
}

void EpochStore::commit_install() {
    if (!nodes_->durable()) return;
    store::WriteBatch records;
    const Bytes prefix = region_records_prefix(region_);
    const std::optional<Bytes> end = store::prefix_successor(prefix);
    CAROUSEL_ASSERT(end.has_value(), "an ASCII prefix has a successor");
    records.del_range(store::Column::kMeta, prefix, *end);
    records.put(store::Column::kMeta, epoch_record_key(region_, epoch_->number),
                encode_version_record(VersionRecord{epoch_->root, epoch_->storage_roots.list()}));
    records.put(store::Column::kMeta, head_record_key(region_), encode_head_record(head_record()));
    nodes_->commit(records);
}

void EpochStore::commit_block(uint64_t number, const VersionRecord& change, uint64_t old_base,
                              std::optional<uint64_t> old_previous) {
    if (!nodes_->durable()) return;
    store::WriteBatch records;
    records.put(store::Column::kMeta, block_record_key(region_, number), encode_version_record(change));
    if (epoch_->number == number) {  // a boundary: the head is the latest epoch
        records.put(store::Column::kMeta, epoch_record_key(region_, number),
                    encode_version_record(VersionRecord{epoch_->root, epoch_->storage_roots.list()}));
        if (old_previous) records.del(store::Column::kMeta, epoch_record_key(region_, *old_previous));
    }
    // The block records at or before the base no version is rebuilt from any more.
    if (const uint64_t base = replay_base(); base > old_base) {
        records.del_range(store::Column::kMeta, block_record_key(region_, old_base + 1),
                          block_record_key(region_, base + 1));
    }
    records.put(store::Column::kMeta, head_record_key(region_), encode_head_record(head_record()));
    nodes_->commit(records);
}

void EpochStore::forget_recent() {
    before_boundary_.reset();
    recent_heads_.clear();
    recent_roots_.clear();
    recent_storage_roots_.clear();
}

void EpochStore::mark_reachable(const Hash& root, HashSet& live) const {
    std::vector<Hash> stack{root};
    Bytes scratch;
    while (!stack.empty()) {
        const Hash hash = stack.back();
        stack.pop_back();
        ByteView rlp;
        const auto found = nodes_->view(hash, scratch, rlp);
        if (!found || !*found || !live.insert(hash).second) continue;
        const auto node = trie::decode_node(rlp);
        CAROUSEL_ASSERT(node.has_value(), "held nodes decode: they entered through checked walks");
        if (!node || node->kind == trie::NodeKind::kLeaf) continue;
        // Embedded children (under 32 bytes) cannot hold a hash; only hash references lead on.
        for (const ByteView child : node->children) {
            if (trie::is_hash_reference(child)) stack.push_back(to_hash(child));
        }
    }
}

void EpochStore::collect_garbage() {
    // Mark: every held node reachable from a kept version's state root or one of its storage roots.
    // A walk stops at a node marked already (everything below it is marked: nodes are named by
    // their hash), so versions that share most of their nodes cost one walk plus their differences.
    // Every node a kept version's partial tries need is held and reachable that way (the class
    // invariant), so none is dropped; a node kept only because an unrelated kept root reaches it is
    // possible in principle (identical subtrees of two storage tries), harmless, and dropped once
    // no kept root reaches it.
    HashSet live;
    live.reserve(nodes_->size());
    for (const auto* v : {&head_, &epoch_, &previous_, &before_boundary_}) {
        if (!*v) continue;
        mark_reachable((*v)->root, live);
        (*v)->storage_roots.for_each([&](const Hash&, const Hash& storage) { mark_reachable(storage, live); });
    }
    bytes_ -= nodes_->keep_only(live);
}

namespace {

ReopenError reopen_error(PartialError e) {
    return e == PartialError::kMissingNode ? ReopenError::kIncomplete : ReopenError::kBadNode;
}

void ignore_node(ByteView, const Hash&, ByteView) {}

// A record of `kv` (Column::kMeta), decoded.
tl::expected<VersionRecord, ReopenError> read_version_record(const store::KV& kv, ByteView key) {
    Bytes value;
    const Status s = kv.get(store::Column::kMeta, key, value);
    if (s.is_not_found()) return tl::unexpected{ReopenError::kMissingRecord};
    if (!s.ok()) return tl::unexpected{ReopenError::kReadFailed};
    auto r = decode_version_record(value);
    if (!r) return tl::unexpected{ReopenError::kBadRecord};
    return std::move(*r);
}

}  // namespace

std::string_view to_string(ReopenError e) noexcept {
    switch (e) {
        case ReopenError::kReadFailed:
            return "the database failed a read";
        case ReopenError::kNoHeadRecord:
            return "damaged: nodes without a head record";
        case ReopenError::kBadRecord:
            return "damaged: a version record does not decode or does not fit the others";
        case ReopenError::kMissingRecord:
            return "damaged: a version record is missing";
        case ReopenError::kOtherEpochLength:
            return "written with another epoch length";
        case ReopenError::kIncomplete:
            return "damaged: a kept version's partial tries do not resolve from the held nodes";
        case ReopenError::kBadNode:
            return "damaged: a held node does not decode or is not under its hash";
        case ReopenError::kInconsistent:
            return "damaged: the versions do not agree with each other or with the nodes";
    }
    return "unknown reopen error";
}

tl::expected<std::unique_ptr<EpochStore>, ReopenError> EpochStore::reopen(store::KV& kv, const Region& region,
                                                                          uint64_t epoch_length) {
    auto nodes = std::make_unique<KvEpochNodes>(kv, region);
    if (!nodes->status().ok()) return tl::unexpected{ReopenError::kReadFailed};
    const auto bytes = nodes->check_hashes();
    if (!bytes) {
        return tl::unexpected{bytes.error().is_corruption() ? ReopenError::kBadNode : ReopenError::kReadFailed};
    }
    auto store = std::make_unique<EpochStore>(region, epoch_length, std::move(nodes));
    store->bytes_ = *bytes;
    Bytes value;
    const Status s = kv.get(store::Column::kMeta, head_record_key(region), value);
    if (s.is_not_found()) {
        // Never seeded (or seeded by nothing that committed): an empty store, unless nodes are there.
        if (store->node_count() != 0) return tl::unexpected{ReopenError::kNoHeadRecord};
        return store;
    }
    if (!s.ok()) return tl::unexpected{ReopenError::kReadFailed};
    const auto head = decode_head_record(value);
    if (!head) return tl::unexpected{ReopenError::kBadRecord};
    if (head->epoch_length != epoch_length) return tl::unexpected{ReopenError::kOtherEpochLength};
    if (auto r = store->restore(kv, *head); !r) return tl::unexpected{r.error()};
    return store;
}

tl::expected<void, ReopenError> EpochStore::restore(const store::KV& kv, const HeadRecord& head) {
    // The numbers must describe what commit_install() and commit_block() write; this also bounds the
    // replays below by one epoch, whatever a damaged record says.
    const uint64_t e = epoch_length_;
    const bool numbers_fit = head.before_boundary
                                 ? head.previous && *head.previous < head.latest && head.latest - *head.previous <= e &&
                                       head.latest % e == 0 && head.head == head.latest
                                 : head.latest <= head.head && head.head / e == head.latest / e &&
                                       (!head.previous || (*head.previous < head.latest && head.latest % e == 0));
    if (!numbers_fit) return tl::unexpected{ReopenError::kBadRecord};
    auto epoch_version = [&](uint64_t number) -> tl::expected<Version, ReopenError> {
        auto r = read_version_record(kv, epoch_record_key(region_, number));
        if (!r) return tl::unexpected{r.error()};
        for (const auto& owner : r->owners) {
            if (owner.second == trie::kEmptyRoot) return tl::unexpected{ReopenError::kBadRecord};
        }
        return Version{number, r->root, OwnerSet{std::move(r->owners)}};
    };
    // Replays the block records (from, to] onto the head; with `check`, first checks that each
    // block's changed nodes are held (the head before it being complete, so is the head after it).
    auto replay = [&](uint64_t from, uint64_t to, bool check) -> tl::expected<void, ReopenError> {
        for (uint64_t n = from + 1; n <= to; ++n) {
            auto change = read_version_record(kv, block_record_key(region_, n));
            if (!change) return tl::unexpected{change.error()};
            if (check) {
                if (auto r = check_block(*head_, *change); !r) return r;
            }
            (void)advance(n, *change);
        }
        return {};
    };

    if (head.before_boundary) {
        // The head before the boundary and the boundary itself, rebuilt from the previous epoch (their
        // intermediate heads were swept: each kept version is checked whole below).
        auto previous = epoch_version(*head.previous);
        if (!previous) return tl::unexpected{previous.error()};
        head_ = *previous;
        epoch_ = std::move(*previous);
        if (auto r = replay(*head.previous, head.latest, false); !r) return r;
        auto latest = read_version_record(kv, epoch_record_key(region_, head.latest));
        if (!latest) return tl::unexpected{latest.error()};
        if (latest->root != head_->root || latest->owners != head_->storage_roots.list()) {
            return tl::unexpected{ReopenError::kInconsistent};
        }
    } else {
        auto latest = epoch_version(head.latest);
        if (!latest) return tl::unexpected{latest.error()};
        head_ = *latest;
        epoch_ = std::move(*latest);
        if (head.previous) {
            auto previous = epoch_version(*head.previous);
            if (!previous) return tl::unexpected{previous.error()};
            previous_ = std::move(*previous);
        }
        if (auto r = replay(head.latest, head.head, true); !r) return r;
    }
    for (const auto* v : {&previous_, &epoch_, &before_boundary_}) {
        if (!*v) continue;
        if (auto r = check_complete(**v); !r) return r;
    }
    return {};
}

tl::expected<void, ReopenError> EpochStore::check_complete(const Version& v) const {
    if (auto r = for_each_partial_node(*this, v.root, path_range(region_), ignore_node); !r) {
        return tl::unexpected{reopen_error(r.error())};
    }
    std::optional<ReopenError> failed;
    (void)v.storage_roots.any_of([&](const Hash& account, const Hash& storage) {
        const trie::PathRange range = path_range(storage_region(region_, account));
        if (auto r = for_each_partial_node(*this, storage, range, ignore_node); !r) {
            failed = reopen_error(r.error());
        } else if (auto here = has_leaf_in(*this, storage, range); !here) {
            failed = reopen_error(here.error());
        } else if (!*here) {
            failed = ReopenError::kInconsistent;  // listed as present, no leaf in its block
        }
        return failed.has_value();
    });
    if (failed) return tl::unexpected{*failed};
    // The accounts inside the region: a listed one must agree with its leaf (as adopt checks).
    auto leaves = leaves_in(*this, v.root, path_range(region_));
    if (!leaves) return tl::unexpected{reopen_error(leaves.error())};
    for (const auto& [key, value] : *leaves) {
        const auto storage = storage_root_in(value);
        if (!storage) return tl::unexpected{ReopenError::kBadNode};
        const auto listed = v.storage_roots.find(key);
        if (listed && *listed != *storage) return tl::unexpected{ReopenError::kInconsistent};
    }
    return {};
}

tl::expected<void, ReopenError> EpochStore::check_block(const Version& from, const VersionRecord& change) const {
    if (auto r = for_each_changed_partial_node(*this, from.root, change.root, path_range(region_), ignore_node); !r) {
        return tl::unexpected{reopen_error(r.error())};
    }
    for (const auto& [account, storage] : change.owners) {
        if (storage == trie::kEmptyRoot) continue;
        const Hash was = from.storage_roots.find(account).value_or(trie::kEmptyRoot);
        const trie::PathRange range = path_range(storage_region(region_, account));
        if (auto r = for_each_changed_partial_node(*this, was, storage, range, ignore_node); !r) {
            return tl::unexpected{reopen_error(r.error())};
        }
        auto here = has_leaf_in(*this, storage, range);
        if (!here) return tl::unexpected{reopen_error(here.error())};
        if (!*here) return tl::unexpected{ReopenError::kInconsistent};
    }
    return {};
}

tl::expected<DiffAnswer, DiffServeError> EpochStore::diff(const Hash& from_root, const Hash& to_root,
                                                          const trie::PathRange& range) const {
    if ((from_root != trie::kEmptyRoot && !known_root(from_root)) ||
        (to_root != trie::kEmptyRoot && !known_root(to_root))) {
        return tl::unexpected{DiffServeError::kUnknownRoot};
    }
    auto error = [](PartialError e) {
        return tl::unexpected{e == PartialError::kMissingNode ? DiffServeError::kNotHeld : DiffServeError::kBadNode};
    };
    auto changes = changed_leaves(*this, from_root, to_root, range);
    if (!changes) return error(changes.error());
    auto proof = range_proof(*this, to_root, range);
    if (!proof) return error(proof.error());
    // Both walks fail on any node they need and lack, so an answer that comes back is exact even
    // for a range reaching past the region (where nothing changed and the edges resolve).
    DiffAnswer out;
    out.keys.reserve(changes->size());
    out.values.reserve(changes->size());
    for (auto& [k, v] : *changes) {
        out.keys.push_back(k);
        out.values.push_back(std::move(v));
    }
    out.proof = std::move(*proof);
    return out;
}

}  // namespace carousel::mgr
