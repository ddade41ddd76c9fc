// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

// MgrNode's join: filling the stores of a node that was not seeded, from its neighbours
// (mgr_node.hpp, MgrNode::join; mgr/region_fill.hpp does the fetching and checking).

#include <carousel/core/keccak.hpp>
#include <carousel/proto/messages.hpp>
#include <carousel/proto/mgr_messages.hpp>

#include "mgr_node.hpp"

namespace carousel::mgr {

void MgrNode::join(proto::Time now, FillOptions fill) {
    fill_options_ = fill;
    join_ = JoinStats{};
    join_->joined_at = now;
    // Kademlia's join: a lookup of the own id fills the table with the closest nodes (and makes them
    // learn this one and its radius, so gossip for its regions comes here).
    dht_.start_lookup(dht_.self().id, now, [](std::vector<dht::Contact>) {});
    start_fill(now);
}

uint64_t MgrNode::latest_header() {
    while (headers_(known_head_ + 1)) ++known_head_;
    return known_head_;
}

void MgrNode::start_fill(proto::Time now) {
    const uint64_t number = latest_header();
    const auto root = headers_(number);
    if (!root) return;  // no header at all: the next timer tries again
    std::vector<Block> regions;
    for (const auto& s : stores_) regions.push_back(s->region());
    joining_ = true;
    ++join_->fills;
    fill_ = std::make_unique<RegionFill>(
        std::move(regions), block_, options_.region_bits, number, *root, fill_options_,
        [this](proto::PeerId to, Bytes frame) { send(to, std::move(frame)); },
        [this](const Hash& position) { return dht_.table().covering(position); },
        [this](proto::PeerId peer, const std::string& reason) { strike(peer, reason); },
        // A request-id space of its own per fill: a late answer to an abandoned fill is not taken.
        (join_->fills << 40) + 1);
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

std::optional<JoinStats> MgrNode::join_stats() const {
    std::optional<JoinStats> s = join_;
    if (s && fill_) add(s->fill, fill_->stats());
    return s;
}

void MgrNode::pump_join(proto::Time now) {
    if (!join_) return;
    if (!fill_) {
        if (joining_) {
            start_fill(now);  // the header source knew no block when the fill was to start
            return;
        }
        // Filled: refill when a store fell behind and the next item is not waiting.
        const uint64_t latest = latest_header();
        for (std::size_t i = 0; i < stores_.size(); ++i) {
            const uint64_t head = stores_[i]->head_number();
            if (head + fill_options_.refill_lag < latest && !waiting_.contains({i, head + 1})) {
                ++join_->refills;
                start_fill(now);
                return;
            }
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
        ++join_->restarts;
        add(join_->fill, fill_->stats());
        fill_.reset();
        start_fill(now);
        return;
    }
    fill_->on_timer(now);
    if (fill_->done()) finish_fill(now);
}

void MgrNode::finish_fill(proto::Time now) {
    const uint64_t number = fill_->number();
    const Hash root = fill_->root();
    std::vector<FilledRegion> regions = fill_->take_regions();
    std::vector<Bytes> code = fill_->take_code();
    add(join_->fill, fill_->stats());
    fill_.reset();
    for (FilledRegion& r : regions) {
        EpochStore* store = store_for(r.region);
        if (store == nullptr) continue;
        if (auto a =
                store->adopt(number, root, std::move(r.account_nodes), std::move(r.owners), std::move(r.storage_nodes));
            !a) {
            // Cannot happen for verified, complete partial tries; start again rather than serve less.
            ++join_->restarts;
            start_fill(now);
            return;
        }
    }
    for (const Bytes& c : code) code_.put_code(keccak256(c), c);
    joining_ = false;
    ++join_->fills_adopted;
    join_->filled_number = number;
    if (!join_->filled_at) {
        join_->filled_at = now;
        for (const auto& s : stores_) join_->store_bytes += s->byte_size();
        join_->offers_before_fill = stats_.offers_sent;
    }
    // Items at or below the fill's block are old now; the rest apply in order.
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        it = it->first.second <= stores_[it->first.first]->head_number() ? waiting_.erase(it) : std::next(it);
    }
    for (auto& s : stores_) apply_waiting(*s, now);
    pump_join(now);
}

bool MgrNode::on_join_frame(proto::PeerId from, ByteView frame, proto::Time now) {
    switch (static_cast<proto::MessageType>(frame[0])) {
        case proto::MessageType::kChunkData:
        case proto::MessageType::kCodeData:
            // Only a fill asks for these; a late answer to a finished or abandoned fill is dropped. A node
            // that never joined treats them as before (unexpected).
            if (!join_) return false;
            if (fill_ && fill_->on_frame(from, frame, now)) pump_join(now);
            return true;
        case proto::MessageType::kGetChunks: {
            if (!joining_) return false;
            auto request = proto::decode_get_chunks(frame);
            if (!request) return false;  // the usual path drops the peer
            ++stats_.chunk_requests;
            proto::ChunkData answer{request->request_id, {}};
            for (std::size_t i = 0; i < request->prefixes.size(); i += request->is_range ? 2u : 1u) {
                proto::ChunkEntry e;
                e.prefix = request->prefixes[i];
                e.error = proto::ChunkError::kUnknownRoot;
                answer.entries.push_back(std::move(e));
            }
            send(from, proto::encode(answer));
            return true;
        }
        case proto::MessageType::kGetDiff: {
            if (!joining_) return false;
            auto request = proto::decode_get_diff(frame);
            if (!request) return false;
            ++stats_.diff_requests;
            proto::DiffData answer;
            answer.request_id = request->request_id;
            answer.error = proto::ChunkError::kUnknownRoot;
            send(from, proto::encode(answer));
            return true;
        }
        case proto::MessageType::kGetBareStorage: {
            if (!joining_) return false;
            auto request = proto::decode_get_bare_storage(frame);
            if (!request) return false;
            ++stats_.bare_requests;
            proto::BareStorage answer;
            answer.request_id = request->request_id;
            answer.error = proto::ChunkError::kUnknownRoot;
            send(from, proto::encode(answer));
            return true;
        }
        case proto::MessageType::kGetCode: {
            if (!joining_) return false;
            auto request = proto::decode_get_code(frame);
            if (!request) return false;
            ++stats_.code_requests;
            send(from, proto::encode(proto::CodeData{request->request_id, {}}));
            return true;
        }
        default:
            return false;
    }
}

}  // namespace carousel::mgr
