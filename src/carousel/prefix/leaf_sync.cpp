// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "leaf_sync.hpp"

#include <algorithm>

#include <carousel/trie/leaf_range.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::prefix {
namespace {

// The 32-byte key after `key`, or nullopt after ff…ff.
std::optional<Bytes> next_key(ByteView key) {
    Bytes next{key};
    for (std::size_t i = next.size(); i-- > 0;) {
        if (++next[i] != 0) return next;
    }
    return std::nullopt;
}

double key_fraction(const Bytes& key) {
    double f = 0;
    double scale = 1.0 / 256;
    for (std::size_t i = 0; i < 8; ++i, scale /= 256) f += key[i] * scale;
    return f;
}

double range_fraction(const trie::PathRange& r) {
    return key_fraction(trie::range_max_key(r)) - key_fraction(trie::range_min_key(r));
}

// kMeta records of a spilled trie's verified key intervals: "leafsync" ++ root ++ first key ->
// last key (both 32 bytes).
constexpr std::string_view kProgressTag = "leafsync";

Bytes progress_prefix(const Hash& root) {
    Bytes k{reinterpret_cast<const uint8_t*>(kProgressTag.data()), kProgressTag.size()};
    k += view(root);
    return k;
}

// The key before `key`, or nullopt before 00…00.
std::optional<Bytes> previous_key(ByteView key) {
    Bytes prev{key};
    for (std::size_t i = prev.size(); i-- > 0;) {
        if (prev[i]-- != 0) return prev;
    }
    return std::nullopt;
}

}  // namespace

LeafSync::LeafSync(trie::NodeStore& store, const Hash& root, trie::TrieSync::LeafCheck check,
                   trie::TrieSync::LeafSink on_leaf, std::size_t initial_ranges, store::KV* spill,
                   std::size_t spill_bytes)
    : store_{store},
      root_{root},
      check_{std::move(check)},
      on_leaf_{std::move(on_leaf)},
      spill_{spill},
      spill_bytes_{spill_bytes} {
    if (root == trie::kEmptyRoot || store_.get_node(root)) {
        built_ = true;
        return;
    }
    if (resume()) return;
    if (initial_ranges <= 1) {
        todo_.push_back({Nibbles{}, Nibbles{}});
    } else {
        for (uint8_t i = 0; i < 16; ++i) todo_.push_back({Nibbles{i}, Nibbles{i}});
    }
}

bool LeafSync::resume() {
    if (spill_ == nullptr) return false;
    // The intervals a killed run verified (their leaves are in the spill), in key order.
    std::vector<std::pair<Bytes, Bytes>> intervals;
    const Bytes prefix = progress_prefix(root_);
    {
        auto it = spill_->new_iterator(store::Column::kMeta, store::KeyRange::with_prefix(prefix));
        for (it->seek_to_first(); it->valid(); it->next()) {
            if (it->key().size() != prefix.size() + 32 || it->value().size() != 32) continue;
            intervals.emplace_back(Bytes{it->key().substr(prefix.size())}, Bytes{it->value()});
        }
        if (!it->status().ok()) spill_status_ = it->status();
    }
    if (intervals.empty() || !spill_status_.ok()) return false;
    // The leaves go to the sink again (their dependencies: storage tries and code), then what is
    // left of the key space is handed out.
    auto it = spill_->new_iterator(store::Column::kStorageLeaves, store::KeyRange::with_prefix(view(root_)));
    for (it->seek_to_first(); it->valid(); it->next()) {
        ++leaf_count_;
        std::vector<Hash> deps;
        if (on_leaf_) on_leaf_(it->key().substr(32), it->value(), deps);
        for (const Hash& d : deps) ++deps_[d];
    }
    if (!it->status().ok()) spill_status_ = it->status();
    spilled_ = true;
    Bytes next(32, 0);  // the first key not yet covered
    bool open = true;   // whether `next` exists (false past ff…ff)
    for (auto& [first, last] : intervals) {
        if (open && ByteView{first}.compare(next) > 0) {
            todo_.push_back({unpack_nibbles(next), unpack_nibbles(*previous_key(first))});
        }
        if (!open || ByteView{last}.compare(next) < 0) continue;
        auto after = next_key(last);
        open = after.has_value();
        if (open) next = std::move(*after);
    }
    if (open) todo_.push_back({unpack_nibbles(next), unpack_nibbles(Bytes(32, 0xff))});
    done_ = std::move(intervals);
    maybe_build();
    return true;
}

std::optional<trie::PathRange> LeafSync::take_range() {
    if (todo_.empty()) return std::nullopt;
    trie::PathRange r = std::move(todo_.front());
    todo_.pop_front();
    ++out_;
    out_fraction_ += range_fraction(r);
    return r;
}

void LeafSync::return_range(const trie::PathRange& range) {
    if (out_ > 0) --out_;
    out_fraction_ = std::max(0.0, out_fraction_ - range_fraction(range));
    todo_.push_front(range);
}

tl::expected<std::size_t, trie::ChunkRejection> LeafSync::accept(const trie::PathRange& range,
                                                                 const proto::ChunkEntry& e) {
    const Bytes origin = trie::range_min_key(range);
    const Bytes limit = trie::range_max_key(range);
    const bool cut = e.stop_path.has_value();
    // A cut answer past the range's end is refused (the ranges handed out are disjoint).
    auto in_range = trie::verify_leaf_range(root_, origin, limit, e.keys, e.values, e.proof, cut);
    if (!in_range || *in_range != e.keys.size()) return tl::unexpected{trie::ChunkRejection::kUnexpectedNode};
    for (const Bytes& v : e.values) {
        if (check_ && !check_(v)) return tl::unexpected{trie::ChunkRejection::kBadLeaf};
    }
    // Verified: keep the leaves, continue after the last one if the server stopped.
    if (out_ > 0) --out_;
    out_fraction_ = std::max(0.0, out_fraction_ - range_fraction(range));
    store::WriteBatch batch;
    for (std::size_t i = 0; i < e.keys.size(); ++i) {
        const ByteView key = view(e.keys[i]);
        if (spilled_) {
            // Ranges handed out are disjoint and each is accepted once, so a key does not repeat.
            batch.put(store::Column::kStorageLeaves, spill_key(key), e.values[i]);
        } else {
            auto [it, fresh] = leaves_.try_emplace(Bytes{key}, e.values[i]);
            if (!fresh) continue;
            memory_bytes_ += key.size() + e.values[i].size() + 64;  // + the map node, roughly
        }
        ++leaf_count_;
        std::vector<Hash> deps;
        if (on_leaf_) on_leaf_(key, e.values[i], deps);
        for (const Hash& d : deps) ++deps_[d];
    }
    // The interval these leaves cover, recorded with them once they are on disk (one batch), so a
    // killed sync resumes after it.
    done_.emplace_back(origin, cut ? Bytes{view(e.keys.back())} : limit);
    if (spilled_) batch.put(store::Column::kMeta, progress_key(done_.back().first), done_.back().second);
    if (!batch.empty() && spill_status_.ok()) spill_status_ = spill_->write(batch);
    if (!spilled_ && spill_ != nullptr && memory_bytes_ > spill_bytes_) spill_memory();
    if (cut) {
        if (auto next = next_key(view(e.keys.back())); next && ByteView{*next}.compare(limit) <= 0) {
            todo_.push_back({unpack_nibbles(*next), range.to});
        }
    }
    maybe_build();
    return e.keys.size();
}

void LeafSync::dependency_complete(const Hash& dep) {
    deps_.erase(dep);
    maybe_build();
}

double LeafSync::remaining_fraction() const noexcept {
    if (built_) return 0;
    double sum = out_ == 0 ? 0 : out_fraction_;
    for (const auto& r : todo_) sum += range_fraction(r);
    return sum;
}

Bytes LeafSync::spill_key(ByteView key) const {
    Bytes k{view(root_)};
    k += key;
    return k;
}

void LeafSync::spill_memory() {
    store::WriteBatch batch;
    for (const auto& [k, v] : leaves_) batch.put(store::Column::kStorageLeaves, spill_key(k), v);
    for (const auto& [first, last] : done_) batch.put(store::Column::kMeta, progress_key(first), last);
    if (spill_status_.ok()) spill_status_ = spill_->write(batch);
    leaves_.clear();
    memory_bytes_ = 0;
    spilled_ = true;
}

void LeafSync::maybe_build() {
    if (built_ || failed_ || !fetched() || !deps_.empty()) return;
    if (!spill_status_.ok()) {
        failed_ = true;
        return;
    }
    // Every range verified against root_: the leaves are the trie. Every node HashBuilder finishes
    // is the root of a complete subtree (children come out before parents), so each is written as
    // it comes, except the root, written last: the store then holds the trie only once all of it
    // is there.
    std::optional<Bytes> root_rlp;
    trie::HashBuilder hb{[&](ByteView, const Hash& h, ByteView rlp) {
        if (h == root_) {
            root_rlp = Bytes{rlp};
        } else {
            store_.put_node(h, rlp);
        }
    }};
    feed_leaves(hb);
    if (!spill_status_.ok() || hb.root() != root_) {
        failed_ = true;  // cannot happen when every range verified (and the spill reads back)
        return;
    }
    if (root_rlp) store_.put_node(root_, *root_rlp);
    // The spilled leaves go only once the trie built from them is durable: a kill in between finds
    // one or the other (else the whole trie would be fetched again).
    if (spilled_) store_.flush();
    clear_spill();
    built_ = true;
}

void LeafSync::feed_leaves(trie::HashBuilder& hb) {
    if (spilled_) {
        auto it = spill_->new_iterator(store::Column::kStorageLeaves, store::KeyRange::with_prefix(view(root_)));
        for (it->seek_to_first(); it->valid(); it->next()) hb.add_leaf(it->key().substr(32), it->value());
        if (!it->status().ok()) spill_status_ = it->status();
    } else {
        for (const auto& [k, v] : leaves_) hb.add_leaf(k, v);
    }
}

void LeafSync::clear_spill() {
    if (spilled_) {
        const auto range = store::KeyRange::with_prefix(view(root_));
        const auto progress = store::KeyRange::with_prefix(progress_prefix(root_));
        store::WriteBatch clear;
        clear.del_range(store::Column::kStorageLeaves, range.lower, range.upper ? ByteView{*range.upper} : ByteView{});
        clear.del_range(store::Column::kMeta, progress.lower, progress.upper ? ByteView{*progress.upper} : ByteView{});
        (void)spill_->write(clear);  // leftovers are harmless (verified leaves of this root)
    }
    leaves_.clear();
    memory_bytes_ = 0;
    done_.clear();
}

Bytes LeafSync::progress_key(ByteView first) const {
    Bytes k = progress_prefix(root_);
    k += first;
    return k;
}

std::unordered_map<Hash, Bytes, trie::HashHasher> LeafSync::take_built_nodes() {
    std::unordered_map<Hash, Bytes, trie::HashHasher> nodes;
    if (built_ || failed_) return nodes;
    trie::HashBuilder hb{[&](ByteView, const Hash& h, ByteView rlp) { nodes.try_emplace(h, Bytes{rlp}); }};
    feed_leaves(hb);
    (void)hb.root();
    clear_spill();
    todo_.clear();
    out_ = 0;
    out_fraction_ = 0;
    deps_.clear();
    failed_ = true;  // spent: it will never build
    return nodes;
}

}  // namespace carousel::prefix
