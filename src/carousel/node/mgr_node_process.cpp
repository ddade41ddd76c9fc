// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_node_process.hpp"

#include <algorithm>
#include <future>

#include <carousel/core/hex.hpp>
#include <carousel/proto/address.hpp>

#include "key_file.hpp"

#include <unistd.h>

namespace carousel::node {
namespace {

constexpr proto::Time kRebootstrapEvery = std::chrono::seconds{5};
constexpr proto::Time kLookUpAfter = std::chrono::seconds{1};
constexpr proto::Time kJoinAfter = std::chrono::seconds{2};

std::string describe(const mgr::NodeRecord& r) {
    return "block " + to_hex_prefixed(view(r.covered.first)) + "/" + std::to_string(r.covered.bits) + ", region bits " +
           std::to_string(r.region_bits) + ", epoch " + std::to_string(r.epoch_length);
}

nlohmann::json fill_json(const mgr::FillRecord& f) {
    nlohmann::json out{{"fills", f.fills},
                       {"fills_adopted", f.fills_adopted},
                       {"restarts", f.restarts},
                       {"refills", f.refills},
                       {"bytes_received", f.fill.bytes_received},
                       {"chunk_requests", f.fill.chunk_requests},
                       {"rejected_answers", f.fill.rejected_answers},
                       {"timeouts", f.fill.timeouts}};
    if (f.filled_at) {
        out["filled_number"] = f.filled_number;
        out["fill_seconds"] = std::chrono::duration<double>(*f.filled_at - f.started_at).count();
    }
    return out;
}

}  // namespace

tl::expected<std::unique_ptr<MgrNodeProcess>, std::string> MgrNodeProcess::open(NodeProcessOptions options) {
    std::unique_ptr<MgrNodeProcess> p{new MgrNodeProcess()};
    p->options_ = std::move(options);
    const NodeProcessOptions& o = p->options_;
    const auto ip = proto::parse_address(o.host + ":1");
    if (!ip)
        return tl::make_unexpected("--listen " + o.host + ":" + std::to_string(o.port) + ": expected an IPv4 address");
    if (o.datadir.empty() && o.key_file.empty())
        return tl::make_unexpected("a node without a datadir needs a key file");

    if (!o.datadir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(o.datadir, ec);
        if (ec) return tl::make_unexpected(o.datadir.string() + ": " + ec.message());
    }
    auto key = load_or_create_key(o.key_file.empty() ? o.datadir / "node.key" : o.key_file);
    if (!key) return tl::make_unexpected(key.error());
    p->key_ = *key;

    if (!o.datadir.empty()) {
        // Memtables of 8 MiB, not RocksDB's 64: a node holds its share of the state, and the write-ahead
        // log is preallocated at about the memtable size (measured: 76 MB on disk for a 365 KB store).
        store::RocksKV::Options kv_options;
        kv_options.write_buffer_bytes = std::size_t{8} << 20;
        auto datadir = mgr::NodeDatadir::open(o.datadir / "db", kv_options);
        if (!datadir) return tl::make_unexpected(datadir.error().message);
        p->datadir_ = std::move(*datadir);
    }
    // The datadir's stores, checked against the node's block before anything is bound: the block is
    // the key's id and the radius (raised to one region, as MgrNode raises it).
    std::vector<std::unique_ptr<mgr::EpochStore>> stores;
    std::vector<Bytes> code;
    if (p->datadir_ && !o.node.origin_only) {
        mgr::NodeDatadir& dir = *p->datadir_;
        const mgr::Region covered =
            mgr::region_of(p->key_.node_id, dht::Radius{std::max(o.radius_bits, o.node.region_bits)});
        const mgr::NodeRecord want{covered, o.node.region_bits, o.node.epoch_length};
        auto held = dir.node_record();
        if (!held) return tl::make_unexpected(held.error().message);
        if (*held) {
            if (**held != want) {
                return tl::make_unexpected(o.datadir.string() + " holds a node of " + describe(**held) + ", not of " +
                                           describe(want) +
                                           ": start it with the same key, --radius-bits, --region-bits and --epoch, "
                                           "or with a new --datadir");
            }
            auto reopened = dir.open_stores(want);
            if (!reopened) return tl::make_unexpected(reopened.error().message);
            stores = std::move(*reopened);
            auto held_code = dir.code();
            if (!held_code) return tl::make_unexpected(held_code.error().message);
            code = std::move(*held_code);
            for (const auto& s : stores) p->reopened_ = p->reopened_ || s->seeded();
        } else {
            if (auto written = dir.write_node_record(want); !written)
                return tl::make_unexpected(written.error().message);
            for (const mgr::Region& r : mgr::regions_in(want.covered, want.region_bits)) {
                stores.push_back(dir.new_store(r, want.epoch_length));
            }
        }
    }
    const std::size_t window = o.header_window != 0 ? o.header_window : 2 * o.node.epoch_length + 16;
    p->book_ = std::make_unique<mgr::HeaderBook>(o.trusted, window);

    p->relay_.set_corrupt_answers(o.corrupt_answers);
    p->transport_ = std::make_unique<net::TcpTransport>(p->relay_, o.tcp);
    const auto port = net::listen_tcp_and_udp(*p->transport_, o.host, o.port);
    if (!port) return tl::make_unexpected(port.error());

    dht::NodeEndpoint endpoint{ip->ip, *port, *port, dht::Radius{o.radius_bits}};
    mgr::NodeOptions node_options = o.node;
    // A restarted node may come back at another port: its record must replace the one the network holds.
    node_options.record_seq = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    p->node_ = std::make_unique<mgr::MgrNode>(p->key_, endpoint, node_options, p->book_->source());
    p->node_->take_headers(*p->book_);
    p->record_ = p->node_->record();

    if (p->datadir_ && !o.node.origin_only) {
        if (auto adopted = p->node_->adopt_stores(std::move(stores), code, &p->datadir_->code_store()); !adopted) {
            return tl::make_unexpected(o.datadir.string() + ": " + adopted.error());
        }
    }
    p->relay_.set_core(p->node_.get());
    return p;
}

MgrNodeProcess::~MgrNodeProcess() { stop(); }

tl::expected<void, std::string> MgrNodeProcess::seed(const trie::NodeStore& full, uint64_t number, const Hash& root,
                                                     const std::vector<Bytes>& code) {
    auto seeded = node_->seed(full, number, root, code);
    if (seeded) seeded_ = true;
    return seeded;
}

bool MgrNodeProcess::accept_header(ByteView encoded) { return book_->accept(encoded).has_value(); }

void MgrNodeProcess::start() {
    if (started_.exchange(true)) return;
    io_ = std::thread{[this] { transport_->run(); }};
    ticker_ = std::thread{[this] {
        std::unique_lock lock{mutex_};
        while (!stopping_) {
            lock.unlock();
            transport_->post([this] {
                step(transport_->now());
                relay_.relay_outboxes();
            });
            lock.lock();
            wake_.wait_for(lock, options_.tick, [this] { return stopping_; });
        }
    }};
}

void MgrNodeProcess::stop() {
    {
        std::lock_guard lock{mutex_};
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_all();
    if (ticker_.joinable()) ticker_.join();
    if (transport_) transport_->stop();  // null when open() failed before making it
    if (io_.joinable()) io_.join();
}

void MgrNodeProcess::publish(mgr::BlockGossip block) { post_block(std::move(block), &mgr::MgrNode::publish); }

void MgrNodeProcess::deliver(mgr::BlockGossip block) { post_block(std::move(block), &mgr::MgrNode::deliver); }

void MgrNodeProcess::post_block(mgr::BlockGossip block, BlockCall call) {
    transport_->post([this, call, block = std::move(block)] {
        ((*node_).*call)(block.items, block.code, transport_->now(), block.header);
        relay_.relay_outboxes();
    });
}

void MgrNodeProcess::step(proto::Time now) {
    const bool alone = options_.bootnodes.empty();
    switch (phase_) {
        case Phase::kMeet:
            if (alone) {
                phase_ = seeded_ || options_.node.origin_only ? Phase::kRunning : Phase::kJoin;
                met_at_ = now;
                return;
            }
            for (const dht::NodeRecord& b : options_.bootnodes) node_->bootstrap(b, now);
            met_at_ = last_bootstrap_ = now;
            phase_ = Phase::kLookUp;
            return;
        case Phase::kLookUp:
            if (now < met_at_ + kLookUpAfter) return;
            node_->look_up_self(now);
            phase_ = options_.node.origin_only ? Phase::kRunning : Phase::kJoin;
            return;
        case Phase::kJoin:
            if (now < met_at_ + kJoinAfter || !book_->latest() || node_->overlay().discovery().table().size() == 0)
                break;
            if (reopened_) {
                node_->resume(now);  // catch up from what the datadir held (GetDiff, else a refill)
            } else {
                node_->join(now);
            }
            phase_ = Phase::kRunning;
            break;
        case Phase::kRunning:
            break;
    }
    // The bootnode may have started after this node, or gone: meet it again while the table is empty.
    if (!alone && node_->overlay().discovery().table().size() == 0 && now >= last_bootstrap_ + kRebootstrapEvery) {
        for (const dht::NodeRecord& b : options_.bootnodes) node_->bootstrap(b, now);
        node_->look_up_self(now);
        last_bootstrap_ = now;
    }
}

nlohmann::json MgrNodeProcess::status() {
    auto promise = std::make_shared<std::promise<nlohmann::json>>();
    auto answer = promise->get_future();
    transport_->post([this, promise] { promise->set_value(status_now(transport_->now())); });
    if (answer.wait_for(std::chrono::seconds{5}) != std::future_status::ready) return nlohmann::json{{"stopped", true}};
    return answer.get();
}

nlohmann::json MgrNodeProcess::status_now(proto::Time now) const {
    const mgr::MgrNode& n = *node_;
    nlohmann::json out;
    out["id"] = to_hex_prefixed(view(n.id()));
    out["enr"] = n.record().to_text();
    out["public_key"] = to_hex_prefixed(ByteView{key_.public_key.data(), key_.public_key.size()});
    out["pid"] = ::getpid();
    out["uptime_seconds"] = std::chrono::duration<double>(now).count();
    out["covered"] = {{"first", to_hex_prefixed(view(n.covered().first))}, {"bits", n.covered().bits}};
    out["regions"] = n.stores().size();
    out["reopened"] = reopened_;
    out["filling"] = n.filling();
    const auto latest = book_->latest();
    out["latest_header"] = latest ? nlohmann::json(latest->number) : nlohmann::json(nullptr);
    // The head every store has reached (the lowest), and whether the stores are current: filled (or
    // seeded) and none filling.
    std::optional<uint64_t> head;
    bool seeded = !n.stores().empty();
    for (const mgr::RegionStore& s : n.stores()) {
        seeded = seeded && s.store->seeded();
        head = head ? std::min(*head, s.store->head_number()) : s.store->head_number();
    }
    out["head"] = head ? nlohmann::json(*head) : nlohmann::json(nullptr);
    out["filled"] = seeded && !n.filling() && !n.catching_up() && phase_ == Phase::kRunning;
    out["store_bytes"] = n.store_bytes();
    out["connections"] = n.overlay().connections().size();
    out["peak_connections"] = n.overlay().connections().stats().peak;
    out["table"] = n.overlay().discovery().table().size();
    const mgr::NodeStats s = n.stats();
    out["stats"] = {{"items_applied", s.items_applied},           {"items_rejected", s.items_rejected},
                    {"items_ignored", s.items_ignored},           {"offers_sent", s.offers_sent},
                    {"content_bytes_sent", s.content_bytes_sent}, {"content_bytes_received", s.content_bytes_received},
                    {"chunk_requests", s.chunk_requests},         {"diff_requests", s.diff_requests},
                    {"items_requests", s.items_requests},         {"headers_accepted", s.headers_accepted},
                    {"headers_rejected", s.headers_rejected}};
    const net::TcpStats t = transport_->stats();
    out["wire"] = {{"bytes_sent", t.bytes_sent}, {"bytes_received", t.bytes_received}};
    if (const auto join = n.join_stats()) out["join"] = fill_json(*join);
    if (const auto resume = n.resume_stats()) {
        out["resume"] = fill_json(*resume);
        const mgr::CatchUpStats& c = resume->catch_up;
        out["resume"]["catch_up"] = {{"caught_up", c.caught_up},
                                     {"current", c.current},
                                     {"refilled", c.refilled},
                                     {"items_requests", c.items_requests},
                                     {"items_applied", c.items_applied},
                                     {"items_bytes_received", c.items_bytes_received},
                                     {"diff_requests", c.diff_requests},
                                     {"diff_bytes_received", c.diff_bytes_received},
                                     {"rejected_answers", c.rejected_answers}};
    }
    return out;
}

}  // namespace carousel::node
