// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// MgrNode's resume after a restart (mgr_node.hpp, MgrNode::resume; issue 20): stores reopened from a
// datadir are brought to the chain's head by the gossip items they missed, from a covering neighbour's
// ItemLog, each verified as gossip is; failing that, by a verified GetDiff when the neighbours still
// keep their root and they hold no storage; and refilled (mgr/mgr_node_join.cpp's fill) otherwise.

#include <algorithm>
#include <iterator>
#include <map>

#include <carousel/core/keccak.hpp>
#include <carousel/proto/mgr_messages.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/proof.hpp>

#include "mgr_node.hpp"

namespace carousel::mgr {

namespace {

Hash to_key(const Bytes& k) {
    Hash h{};
    std::copy(k.begin(), k.end(), h.begin());
    return h;
}

// Whether the neighbours, at block `latest`, still keep the root of block `h` (EpochStore: the
// previous and latest boundary, every head since the latest, and the head just before it until the
// next block).
bool servable(uint64_t h, uint64_t latest, uint64_t e) {
    const uint64_t boundary = latest / e * e;
    return h >= boundary || (h % e == 0 && h + e == boundary) || (h + 1 == boundary && latest == boundary);
}

// The most a catch-up may take before the store is filled instead, in request timeouts.
constexpr int kCatchUpTimeouts = 12;
// A presence check asks for this much (one owner's bare leaves tell that storage is present).
constexpr uint64_t kPresenceMaxSize = 4096;

}  // namespace

void MgrNode::resume(proto::Time now, FillOptions fill) {
    at(now);
    fill_options_ = fill;
    resume_ = FillRecord{};
    resume_->started_at = now;
    look_up_self(now);  // the neighbours learn the node again, and its table fills
    for (const auto& s : stores_) {
        resume_->regions.push_back(s.store->region());
        if (!s.store->seeded()) {
            filling_.insert(s.store->region().first);
            ++resume_->catch_up.refilled;
        } else {
            catching_[s.store->region().first].since = now;
        }
    }
    fill_code_regions_ = {covered_};
    if (filling()) restart_fill(now);
    pump_join(now);
}

void MgrNode::note_resumed(proto::Time now) {
    if (!resume_ || resume_->filled_at || !catching_.empty() || !filling_.empty()) return;
    resume_->filled_at = now;
    resume_->filled_number = 0;
    for (const Region& region : resume_->regions) {
        if (const EpochStore* s = store_for(region)) {
            resume_->store_bytes += s->byte_size();
            resume_->filled_number = std::max(resume_->filled_number, s->head_number());
        }
    }
}

std::optional<proto::Time> MgrNode::resume_deadline() const {
    std::optional<proto::Time> t;
    const auto earlier = [&t](proto::Time at) {
        if (!t || at < *t) t = at;
    };
    for (const auto& [first, c] : catching_) {
        if (c.request) earlier(c.deadline);  // expired at the next pump_resume
        earlier(c.since + kCatchUpTimeouts * fill_options_.request_timeout);
        for (const auto& [peer, until] : c.paused) {
            if (until > now()) earlier(until);  // a pause over lets that neighbour be asked again
        }
        if (!c.request && c.next_try > now()) earlier(c.next_try);
    }
    return t;
}

void MgrNode::catch_up_by_fill(const Hash& region, proto::Time now) {
    catching_.erase(region);
    filling_.insert(region);
    ++resume_->catch_up.refilled;
    fill_code_regions_ = {covered_};
    // A fill running for other regions starts again over all of them (its finish clears filling_).
    restart_fill(now);
}

void MgrNode::caught_up(const Hash& region, proto::Time now) {
    catching_.erase(region);
    EpochStore* store = store_for(Region{region, options_.region_bits});
    if (store == nullptr) return;
    for (auto it = waiting_.lower_bound({region, 0}); it != waiting_.end() && it->first.first == region;) {
        it = it->first.second <= store->head_number() ? waiting_.erase(it) : std::next(it);
    }
    apply_waiting(*store, now);
    note_resumed(now);
}

void MgrNode::pump_resume(proto::Time now) {
    if (!resume_) return;
    const uint64_t latest = latest_header();
    const uint64_t e = options_.epoch_length;
    // Stores that fell behind after the resume (missed gossip) catch up again.
    for (const auto& s : stores_) {
        const Hash& first = s.store->region().first;
        const uint64_t head = s.store->head_number();
        if (!s.store->seeded() || filling_.contains(first) || catching_.contains(first)) continue;
        if (head + fill_options_.refill_lag < latest && !waiting_.contains({first, head + 1})) {
            catching_[first].since = now;
        }
    }
    std::vector<Hash> to_fill;
    std::vector<Hash> current;
    for (auto& [first, c] : catching_) {
        EpochStore* store = store_for(Region{first, options_.region_bits});
        if (store == nullptr) {
            current.push_back(first);  // the region was dropped (a shrink)
            continue;
        }
        const uint64_t h = store->head_number();
        if (latest <= h) {
            // Nothing newer known: the store is current if the header of its head agrees.
            c.since = now;  // waiting for headers does not count against the catch-up
            const auto root = headers_(h);
            if (!root) {
                c.next_try =
                    now + fill_options_.retry_after;  // the header source has not reached it yet: look again then
                continue;
            }
            if (*root != store->head_root()) {
                to_fill.push_back(first);  // another chain than the network's
            } else {
                ++resume_->catch_up.current;
                current.push_back(first);
            }
            continue;
        }
        if (now - c.since > kCatchUpTimeouts * fill_options_.request_timeout) {
            to_fill.push_back(first);
            continue;
        }
        if (headers_(h) && *headers_(h) != store->head_root()) {
            to_fill.push_back(first);  // another chain than the network's
            continue;
        }
        if (c.request && now >= c.deadline) {
            ++resume_->catch_up.timeouts;
            c.paused[c.peer] = now + fill_options_.retry_after;
            c.request.reset();
        }
        if (c.request) continue;
        if (c.stage == CatchUp::Stage::kItems && neighbours_spent(first, c, now)) {
            c.stage = CatchUp::Stage::kDiff;
            c.paused.clear();
        }
        // A diff cannot carry storage (mgr_node.hpp); a root swept from the neighbours cannot be a diff's base.
        if (c.stage == CatchUp::Stage::kDiff &&
            (!store->owners(store->head_root(), Hash{}, 1).empty() || !servable(h, latest, e))) {
            to_fill.push_back(first);
            continue;
        }
        if (c.stage == CatchUp::Stage::kPresence && !servable(c.to_number, latest, e)) {
            c.stage = CatchUp::Stage::kDiff;  // root(H) was swept meanwhile: diff again
            c.nodes.clear();
        }
        if (!send_catch_up(first, c, now)) {
            c.next_try = now + fill_options_.retry_after;
            // Nobody can be asked: every covering neighbour spent, or none known (the timeout above bounds the wait).
            if (c.stage != CatchUp::Stage::kItems && neighbours_spent(first, c, now)) to_fill.push_back(first);
        }
    }
    for (const Hash& first : current) caught_up(first, now);
    for (const Hash& first : to_fill) {
        if (catching_.contains(first)) catch_up_by_fill(first, now);
    }
}

bool MgrNode::send_catch_up(const Hash& region, CatchUp& c, proto::Time now) {
    const EpochStore* store = store_for(Region{region, options_.region_bits});
    if (c.stage == CatchUp::Stage::kItems && !headers_(store->head_number() + 1)) return false;  // wait for it
    std::optional<proto::PeerId> peer;
    for (const dht::Contact& k : router_.covering(region, now)) {
        const proto::PeerId p = handles().named(k).peer;
        if (c.struck.contains(p) || (c.stage == CatchUp::Stage::kItems && c.lacking.contains(p))) continue;
        if (const auto it = c.paused.find(p); it != c.paused.end() && it->second > now) continue;
        peer = p;
        break;
    }
    if (!peer) return false;
    const uint64_t id = next_catch_up_request_++;
    Bytes frame;
    if (c.stage == CatchUp::Stage::kItems) {
        // Only blocks whose headers the node holds: each item is applied as it comes (a book being
        // filled after a restart knows the latest header before the ones between).
        const uint64_t from = store->head_number() + 1;
        const uint64_t latest = latest_header();
        uint64_t to = from;
        while (to < latest && headers_(to + 1)) ++to;
        frame = proto::encode(
            proto::GetItems{id, region, options_.region_bits, from, to, fill_options_.max_response_bytes});
        ++resume_->catch_up.items_requests;
    } else if (c.stage == CatchUp::Stage::kDiff) {
        c.to_number = latest_header();
        c.to_root = *headers_(c.to_number);
        const trie::PathRange range = path_range(store->region());
        frame = proto::encode(proto::GetDiff{id, store->head_root(), c.to_root, range.from, range.to});
        ++resume_->catch_up.diff_requests;
        resume_->catch_up.diff_bytes_sent += frame.size();
    } else {
        proto::GetBareStorage ask;
        ask.request_id = id;
        ask.state_root = c.to_root;
        ask.region_first = region;
        ask.region_bits = options_.region_bits;
        ask.max_size = kPresenceMaxSize;
        frame = proto::encode(ask);
        ++resume_->catch_up.presence_requests;
    }
    c.request = id;
    c.peer = *peer;
    c.deadline = now + fill_options_.request_timeout;
    (void)send(*peer, std::move(frame));
    return true;
}

bool MgrNode::on_resume_frame(proto::PeerId from, ByteView frame, proto::Time now) {
    const auto type = static_cast<proto::MessageType>(frame[0]);
    if (type == proto::MessageType::kItems) {
        if (!resume_) return false;  // only a resume asks for these (unexpected otherwise)
        on_catch_up_items(from, frame, now);
        pump_join(now);
        return true;
    }
    if (type == proto::MessageType::kDiffData) {
        // Only a resume asks for these; a late answer is dropped. A node that never resumed treats
        // them as before (unexpected).
        if (!resume_) return false;
        on_catch_up_diff(from, frame, now);
        pump_join(now);
        return true;
    }
    if (type != proto::MessageType::kBareStorage || !resume_) return false;
    auto answer = proto::decode_bare_storage(frame);
    if (!answer || answer->request_id < (uint64_t{1} << 62)) return false;  // a fill's (or bad: the fill says so)
    on_catch_up_presence(from, *answer, now);
    pump_join(now);
    return true;
}

bool MgrNode::neighbours_spent(const Hash& region, const CatchUp& c, proto::Time now) {
    const auto covering = router_.covering(region, now);
    return !covering.empty() && std::all_of(covering.begin(), covering.end(), [&](const dht::Contact& k) {
        const proto::PeerId p = handles().named(k).peer;
        return c.struck.contains(p) || (c.stage == CatchUp::Stage::kItems && c.lacking.contains(p));
    });
}

void MgrNode::on_catch_up_items(proto::PeerId from, ByteView frame, proto::Time now) {
    auto answer = decoded(from, proto::decode_items(frame), "Items");
    if (!answer) return;
    const auto it = std::find_if(catching_.begin(), catching_.end(), [&](const auto& entry) {
        return entry.second.request == answer->request_id && entry.second.peer == from &&
               entry.second.stage == CatchUp::Stage::kItems;
    });
    if (it == catching_.end()) return;  // late, or not asked
    const Hash first = it->first;
    CatchUp& c = it->second;
    c.request.reset();
    resume_->catch_up.items_bytes_received += frame.size();
    if (answer->error) {
        if (answer->error == proto::ChunkError::kNoChunk) {
            ++resume_->catch_up.items_lacking;
            c.lacking.insert(from);
        } else {
            ++resume_->catch_up.errors;
            c.paused[from] = now + fill_options_.retry_after;
        }
        return;
    }
    EpochStore* store = store_for(Region{first, options_.region_bits});
    if (store == nullptr) return;
    if (answer->items.empty()) {
        // Nothing after the store's head: the neighbour is behind the header that says otherwise.
        c.paused[from] = now + fill_options_.retry_after;
        return;
    }
    // Each item is the next block's, checked as gossip is (EpochStore::apply against the header);
    // those before a bad one stay applied: they verified.
    uint64_t applied = 0;
    for (Bytes& encoded : answer->items) {
        auto item = decode_region_item(encoded);
        std::string why;
        if (!item) {
            why = "undecodable item: " + std::string{to_string(item.error())};
        } else if (item->region != store->region() || item->block_number != store->head_number() + 1) {
            why = "not the region's next block";
        }
        if (why.empty()) {
            const std::optional<Hash> root = headers_(item->block_number);
            if (!root) break;  // its header is not known yet: asked again once it is
            if (auto r = store->apply(*item, *root); !r)
                why = "item fails verification: " + std::string{to_string(r.error())};
        }
        if (!why.empty()) {
            ++resume_->catch_up.rejected_answers;
            c.struck.insert(from);
            strike(from, "mgr: bad Items: " + why);
            return;
        }
        ++resume_->catch_up.items_applied;
        ++applied;
        item_log_.record(first, item->block_number, std::move(encoded));
    }
    if (applied == 0) {
        c.paused[from] = now + fill_options_.retry_after;  // the next block's header is not known yet
        return;
    }
    if (store->head_number() >= latest_header()) {
        ++resume_->catch_up.caught_up;
        caught_up(first, now);
    }
}

void MgrNode::on_catch_up_diff(proto::PeerId from, ByteView frame, proto::Time now) {
    auto answer = decoded(from, proto::decode_diff_data(frame), "DiffData");
    if (!answer) return;
    const auto it = std::find_if(catching_.begin(), catching_.end(), [&](const auto& entry) {
        return entry.second.request == answer->request_id && entry.second.peer == from &&
               entry.second.stage == CatchUp::Stage::kDiff;
    });
    if (it == catching_.end()) return;  // late, or not asked
    CatchUp& c = it->second;
    c.request.reset();
    resume_->catch_up.diff_bytes_received += frame.size();
    if (answer->error) {
        ++resume_->catch_up.errors;
        c.paused[from] = now + fill_options_.retry_after;
        return;
    }
    EpochStore* store = store_for(Region{it->first, options_.region_bits});
    if (store == nullptr) return;
    const trie::PathRange range = path_range(store->region());
    const Hash origin = to_key(trie::range_min_key(range));
    const Hash limit = to_key(trie::range_max_key(range));
    auto reject = [&](const std::string& why) {
        ++resume_->catch_up.rejected_answers;
        c.struck.insert(from);
        strike(from, "mgr: bad DiffData: " + why);
    };
    if (answer->keys.size() != answer->values.size()) return reject("keys and values differ in number");
    // The store's own leaves of the range at h (trusted: its invariant), with the changes applied.
    auto held = leaves_in(*store, store->head_root(), range);
    if (!held) return;  // cannot be: the store's head resolves
    std::map<Hash, Bytes> leaves(std::make_move_iterator(held->begin()), std::make_move_iterator(held->end()));
    for (std::size_t i = 0; i < answer->keys.size(); ++i) {
        const Hash& k = answer->keys[i];
        if (k < origin || limit < k || (i > 0 && !(answer->keys[i - 1] < k))) {
            return reject("a key outside the range or out of order");
        }
        if (answer->values[i].empty()) {
            leaves.erase(k);
        } else {
            leaves[k] = std::move(answer->values[i]);
        }
    }
    std::vector<Bytes> keys;
    std::vector<Bytes> values;
    keys.reserve(leaves.size());
    values.reserve(leaves.size());
    for (auto& [k, v] : leaves) {
        keys.emplace_back(view(k));
        values.push_back(std::move(v));
    }
    // The check rebuilds the nodes on the paths into the range and below it; they are kept only if it passes.
    std::map<Hash, Bytes> built;
    const trie::NodeCallback keep = [&](ByteView, const Hash& hash, ByteView rlp) {
        built.try_emplace(hash, Bytes{rlp.begin(), rlp.end()});
    };
    const auto verified =
        trie::verify_bounded_range_proof(c.to_root, view(origin), view(limit), keys, values, answer->proof, keep);
    if (!verified)
        return reject("the changes do not give the range at the new root: " +
                      std::string{trie::to_string(verified.error())});
    for (const Bytes& n : answer->proof) built.try_emplace(keccak256(n), n);
    c.nodes.clear();
    for (auto& [hash, rlp] : built) c.nodes.push_back(std::move(rlp));
    // Storage present at H (inside or outside the region) cannot come by diff: ask whether there is any.
    c.stage = CatchUp::Stage::kPresence;
    c.paused.clear();
}

void MgrNode::on_catch_up_presence(proto::PeerId from, const proto::BareStorage& answer, proto::Time now) {
    const auto it = std::find_if(catching_.begin(), catching_.end(), [&](const auto& entry) {
        return entry.second.request == answer.request_id && entry.second.peer == from &&
               entry.second.stage == CatchUp::Stage::kPresence;
    });
    if (it == catching_.end()) return;
    const Hash first = it->first;
    CatchUp& c = it->second;
    c.request.reset();
    if (answer.error) {
        ++resume_->catch_up.errors;
        c.paused[from] = now + fill_options_.retry_after;
        return;
    }
    Hash end;
    end.fill(0xff);
    if (!answer.entries.empty() || answer.covered_to != end) {
        catch_up_by_fill(first, now);  // storage is present at H: the diff route cannot carry it
        return;
    }
    EpochStore* store = store_for(Region{first, options_.region_bits});
    if (store == nullptr) return;
    if (auto r = store->adopt(c.to_number, c.to_root, std::move(c.nodes), {}, {}); !r) {
        // Cannot happen for nodes the range check rebuilt; fill rather than serve less.
        catch_up_by_fill(first, now);
        return;
    }
    ++resume_->catch_up.caught_up;
    caught_up(first, now);
}

}  // namespace carousel::mgr
