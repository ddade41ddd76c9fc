// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// MgrNode's join, and the fill machinery it shares with refills and radius growth
// (mgr/mgr_node_radius.cpp): filling stores from the neighbours (mgr_node.hpp, MgrNode::join;
// mgr/region_fill.hpp does the fetching and checking).

#include <carousel/core/keccak.hpp>
#include <carousel/proto/mgr_messages.hpp>
#include <carousel/proto/prefix_messages.hpp>

#include "mgr_node.hpp"

namespace carousel::mgr {

void MgrNode::join(proto::Time now, FillOptions fill) {
    at(now);
    fill_options_ = fill;
    join_ = FillRecord{};
    join_->started_at = now;
    // Kademlia's join: a lookup of the own id fills the table with the closest nodes (and makes them
    // learn this one and its radius, so gossip for its regions comes here).
    look_up_self(now);
    for (const auto& s : stores_) {
        filling_.insert(s.store->region().first);
        join_->regions.push_back(s.store->region());
    }
    fill_code_regions_ = {covered_};
    restart_fill(now);
}

uint64_t MgrNode::latest_header() {
    // A book (a process) holds a window of recent numbers, not every number from 0: its latest is the head.
    if (book_ != nullptr) {
        if (const auto latest = book_->latest(); latest && latest->number > known_head_) known_head_ = latest->number;
    }
    while (headers_(known_head_ + 1)) ++known_head_;
    return known_head_;
}

FillRecord* MgrNode::episode() {
    if (grow_) return &*grow_;
    if (join_) return &*join_;
    return resume_ ? &*resume_ : nullptr;
}

void MgrNode::start_fill(proto::Time now) {
    FillRecord* record = episode();
    if (filling_.empty() || record == nullptr) return;
    const uint64_t number = latest_header();
    const auto root = headers_(number);
    if (!root) return;  // no header at all: the next timer tries again
    std::vector<Region> regions;
    for (const auto& s : stores_) {
        if (filling_.contains(s.store->region().first)) regions.push_back(s.store->region());
    }
    ++record->fills;
    // A request-id space of its own per fill: a late answer to an abandoned fill is not taken.
    const uint64_t fills = (join_ ? join_->fills : 0) + (grow_ ? grow_->fills : 0) + (resume_ ? resume_->fills : 0);
    fill_ = std::make_unique<RegionFill>(
        std::move(regions), fill_code_regions_, options_.region_bits, number, *root, fill_options_,
        [this](proto::PeerId to, Bytes frame) {
            // The neighbours a fill asks stay connected until it ends (unpin_fill_peers).
            if (const auto node = handles().node(to); node && fill_pins_.insert(*node).second) overlay_.pin(*node);
            (void)send(to, std::move(frame));
        },
        // Step 2 reads every region: outside its block the table need not hold a node of each, so
        // the router's placement lookups add the nodes covering it.
        [this](const Hash& position) { return router_.covering(position, this->now()); },
        [this](proto::PeerId peer, const std::string& reason) { strike(peer, reason); }, (fills << 40) + 1);
    fill_->pump(now);
}

namespace {
void add(FillStats& sum, const FillStats& s) {
    sum.bytes_received += s.bytes_received;
    sum.bytes_sent += s.bytes_sent;
    sum.chunk_requests += s.chunk_requests;
    sum.code_requests += s.code_requests;
    sum.rejected_answers += s.rejected_answers;
    sum.incomplete += s.incomplete;
    sum.timeouts += s.timeouts;
    sum.errors += s.errors;
    sum.owners = s.owners;
    sum.nodes_accepted += s.nodes_accepted;
    sum.code_bytes += s.code_bytes;
    sum.code_unavailable += s.code_unavailable;
}
}  // namespace

void MgrNode::abandon_fill() {
    if (!fill_) return;
    if (FillRecord* record = episode()) {
        ++record->restarts;
        add(record->fill, fill_->stats());
    }
    fill_.reset();
    unpin_fill_peers();
}

void MgrNode::restart_fill(proto::Time now) {
    abandon_fill();
    start_fill(now);
}

std::optional<FillRecord> MgrNode::join_stats() const {
    std::optional<FillRecord> s = join_;
    if (s && fill_ && !grow_) add(s->fill, fill_->stats());
    return s;
}

std::optional<FillRecord> MgrNode::resume_stats() const {
    std::optional<FillRecord> s = resume_;
    if (s && fill_ && !grow_ && !join_) add(s->fill, fill_->stats());
    return s;
}

std::optional<FillRecord> MgrNode::grow_stats() const {
    std::optional<FillRecord> s = grow_;
    if (s && fill_) add(s->fill, fill_->stats());
    return s;
}

void MgrNode::pump_join(proto::Time now) {
    pump_resume(now);
    FillRecord* record = episode();
    if (record == nullptr) return;
    if (!fill_) {
        if (filling()) {
            start_fill(now);  // the header source knew no block when the fill was to start
            return;
        }
        // Filled: refill the stores that fell behind with their next item not waiting.
        const uint64_t latest = latest_header();
        for (const auto& s : stores_) {
            const uint64_t head = s.store->head_number();
            if (head + fill_options_.refill_lag < latest && !catching_.contains(s.store->region().first) &&
                !waiting_.contains({s.store->region().first, head + 1})) {
                filling_.insert(s.store->region().first);
            }
        }
        if (filling()) {
            ++record->refills;
            fill_code_regions_ = {covered_};
            start_fill(now);
        }
        return;
    }
    // The neighbours keep the fill's root while it is the previous or latest boundary, or a head since
    // the latest boundary; once a boundary sweeps it, start again at the new head.
    const uint64_t latest = latest_header();
    const uint64_t e = options_.epoch_length;
    const uint64_t boundary = latest / e * e;
    const uint64_t h = fill_->number();
    const bool kept = h >= boundary || (h % e == 0 && h + e == boundary);
    if (!kept) {
        restart_fill(now);
        return;
    }
    fill_->on_timer(now);
    if (fill_->done()) finish_fill(now);
}

void MgrNode::finish_fill(proto::Time now) {
    FillRecord* record = episode();
    const uint64_t number = fill_->number();
    const Hash root = fill_->root();
    std::vector<FilledRegion> regions = fill_->take_regions();
    std::vector<Bytes> code = fill_->take_code();
    add(record->fill, fill_->stats());
    fill_.reset();
    unpin_fill_peers();
    // Every store adopts before any serves: a failed adopt starts the whole fill again.
    for (FilledRegion& r : regions) {
        EpochStore* store = store_for(r.region);
        if (store == nullptr) continue;
        if (auto a =
                store->adopt(number, root, std::move(r.account_nodes), std::move(r.owners), std::move(r.storage_nodes));
            !a) {
            // Cannot happen for verified, complete partial tries; start again rather than serve less.
            ++record->restarts;
            start_fill(now);
            return;
        }
    }
    for (const Bytes& c : code) {
        // The block may have shrunk while the fill ran.
        if (const Hash h = keccak256(c); contains(covered_, h)) keep_code(h, c);
    }
    filling_.clear();
    ++record->fills_adopted;
    record->filled_number = number;
    for (FillRecord* r : {join_ ? &*join_ : nullptr, grow_ ? &*grow_ : nullptr}) {
        if (r == nullptr || r->filled_at) continue;
        r->filled_at = now;
        r->filled_number = number;
        for (const Region& region : r->regions) {
            if (const EpochStore* s = store_for(region)) r->store_bytes += s->byte_size();
        }
        if (join_ && r == &*join_) r->offers_before_fill = router_.stats().offers_sent;
    }
    note_resumed(now);
    // Items at or below a store's head are old now; the rest apply in order.
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        const EpochStore* s = store_for(Region{it->first.first, options_.region_bits});
        it = s == nullptr || it->first.second <= s->head_number() ? waiting_.erase(it) : std::next(it);
    }
    for (auto& s : stores_) apply_waiting(*s.store, now);
    pump_join(now);
}

bool MgrNode::on_fill_frame(proto::PeerId from, ByteView frame, proto::Time now) {
    switch (static_cast<proto::MessageType>(frame[0])) {
        case proto::MessageType::kChunkData:
        case proto::MessageType::kCodeData:
        case proto::MessageType::kBareStorage:
            // Only a fill asks for these; a late answer to a finished or abandoned fill is dropped. A node
            // that never filled treats them as before (unexpected).
            if (!join_ && !grow_ && !resume_) return false;
            if (fill_ && fill_->on_frame(from, frame, now)) pump_join(now);
            return true;
        default:
            return false;
    }
}

}  // namespace carousel::mgr
