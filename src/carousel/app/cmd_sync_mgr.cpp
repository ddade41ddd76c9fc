// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel sync --mgr`: the Merry-Go-Round client (mgr::MgrSync) over a real network: it meets the
// nodes through a bootnode, learns the chain's head from headers signed by the bridge, walks the
// whole key space region by region (verified leaves into --db), rolls it forward at each boundary,
// checks the rebuilt state root, then follows the head for --follow blocks.
#include <future>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/dht/node_endpoint.hpp>
#include <carousel/mgr/header_book.hpp>
#include <carousel/mgr/mgr_sync.hpp>
#include <carousel/net/tcp_transport.hpp>
#include <carousel/node/endpoint_relay.hpp>
#include <carousel/node/key_file.hpp>
#include <carousel/proto/address.hpp>
#include <carousel/store/rocks_kv.hpp>

#include "host_port.hpp"
#include "mgr_sync_command.hpp"
#include "process_signals.hpp"
#include "progress.hpp"

namespace carousel::app {
namespace {

// What the client says at one moment (read on the transport thread).
struct ClientState {
    bool synced{false};
    std::optional<uint64_t> verified;
    std::optional<Hash> verified_root;
    double progress{0};
    std::string failure;
    mgr::SyncStats stats;
    uint64_t latest_header{0};
    std::size_t accounts{0};
    std::size_t slots{0};
    std::size_t codes{0};
    uint64_t raw_bytes{0};
    std::size_t peak_connections{0};
};

nlohmann::json stats_json(const mgr::SyncStats& s) {
    return {{"bytes_received", s.bytes_received},
            {"chunk_bytes", s.chunk_bytes},
            {"diff_bytes", s.diff_bytes},
            {"bare_bytes", s.bare_bytes},
            {"code_bytes", s.code_bytes},
            {"rejected_answers", s.rejected_answers},
            {"timeouts", s.timeouts},
            {"rolls", s.rolls},
            {"banned_peers", s.banned_peers},
            {"peers_used", s.peers_used},
            {"lookups", s.lookups}};
}

}  // namespace

void add_mgr_sync_flags(CLI::App& cmd, MgrSyncFlags& f) {
    cmd.add_flag("--mgr", f.mgr,
                 "sync from a Merry-Go-Round network instead of prefix-sync servers (needs --bootnode and "
                 "--trust-bridge; --peer and --root do not apply)");
    cmd.add_option("--bootnode", f.bootnodes, "--mgr: a node's record (enr:...) to meet the network through")
        ->option_text("ENR");
    cmd.add_option("--trust-bridge", f.trust_bridge,
                   "--mgr: the bridge's public key (0x + 66 hex digits): only headers signed by it are the chain")
        ->option_text("0xPUBKEY");
    cmd.add_option("--follow", f.follow, "--mgr: once synced, follow the head for this many blocks (default 0)")
        ->option_text("BLOCKS");
    cmd.add_option("--mgr-listen", f.listen, "--mgr: IPv4:PORT of the client's own sockets (default 127.0.0.1:0)");
    add_network_flags(cmd, f.network);
}

int run_mgr_sync(const MgrSyncFlags& f, const std::string& db, double timeout_s, bool json) {
    const std::string who = "carousel sync --mgr";
    auto bootnodes = parse_bootnodes(f.bootnodes);
    if (!bootnodes || bootnodes->empty()) {
        std::cerr << who << ": " << (bootnodes ? "give at least one --bootnode" : bootnodes.error()) << "\n";
        return 1;
    }
    auto trusted = parse_trusted_key(f.trust_bridge);
    if (!trusted) {
        std::cerr << who << ": " << trusted.error() << "\n";
        return 1;
    }
    auto address = parse_host_port(f.listen);
    const auto ip = address ? proto::parse_address(address->host + ":1") : std::nullopt;
    if (!ip) {
        std::cerr << who << ": --mgr-listen " << f.listen << ": expected IPv4:PORT\n";
        return 1;
    }
    std::error_code ec;
    std::filesystem::create_directories(db, ec);
    if (ec) {
        std::cerr << who << ": --db " << db << ": " << ec.message() << "\n";
        return 1;
    }
    auto key = node::load_or_create_key(std::filesystem::path{db} / "client.key");
    if (!key) {
        std::cerr << who << ": " << key.error() << "\n";
        return 1;
    }
    std::unique_ptr<store::RocksKV> kv;
    if (auto s = store::RocksKV::open(std::filesystem::path{db} / "leaves", {}, kv); !s.ok()) {
        std::cerr << who << ": " << s.to_string() << "\n";
        return 1;
    }

    block_stop_signals();
    mgr::HeaderBook book{*trusted, 2 * f.network.epoch + 16};
    node::EndpointRelay relay;
    net::TcpTransport transport{relay};
    const auto port = net::listen_tcp_and_udp(transport, address->host, address->port);
    if (!port) {
        std::cerr << who << ": " << port.error() << "\n";
        return 1;
    }
    mgr::MgrSyncOptions options;
    options.region_bits = f.network.region_bits;
    options.epoch_length = f.network.epoch;
    options.overlay.connections.max_peers = f.network.max_peers;
    options.leaf_kv = kv.get();
    mgr::MgrSync client{*key, dht::NodeEndpoint{ip->ip, *port, *port, dht::Radius{0}}, options, mgr::book_chain(book)};
    client.take_headers(book);
    relay.set_core(&client);
    std::thread io{[&] { transport.run(); }};
    transport.post([&] {
        for (const dht::NodeRecord& b : *bootnodes) client.bootstrap(b, transport.now());
        relay.relay_outboxes();
    });

    const auto read_state = [&] {
        auto promise = std::make_shared<std::promise<ClientState>>();
        auto answer = promise->get_future();
        transport.post([&, promise] {
            ClientState s;
            s.synced = client.synced();
            s.verified = client.verified_number();
            if (s.verified) s.verified_root = book.root(*s.verified);
            s.progress = client.progress();
            s.failure = client.failure();
            s.stats = client.stats();
            if (const auto latest = book.latest()) s.latest_header = latest->number;
            s.accounts = client.accounts();
            s.slots = client.slots();
            s.codes = client.codes();
            s.raw_bytes = client.raw_bytes();
            s.peak_connections = client.overlay().connections().stats().peak;
            promise->set_value(std::move(s));
        });
        return answer.get();
    };

    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::milliseconds{static_cast<int64_t>(timeout_s * 1000)};
    Progress progress{"mgr sync", 1000, !json};
    ClientState state;
    std::optional<uint64_t> synced_at;
    std::string stopped_by;
    while (true) {
        if (wait_stop_signal(std::chrono::milliseconds{250})) {
            stopped_by = "stopped by a signal";
            break;
        }
        state = read_state();
        if (!state.failure.empty()) break;
        if (!state.synced) {
            progress.update(static_cast<uint64_t>(state.progress * 1000),
                            "head " + std::to_string(state.latest_header));
        } else if (!synced_at) {
            progress.finish();
            synced_at = state.verified.value_or(0);
            if (!json) {
                std::cerr << "synced at block " << *synced_at << "; following the head for " << f.follow << " blocks"
                          << std::endl;
            }
        }
        if (synced_at && state.verified && *state.verified >= *synced_at + f.follow) break;
        if (std::chrono::steady_clock::now() > deadline) {
            stopped_by = "timed out after " + std::to_string(timeout_s) + " s";
            break;
        }
    }
    transport.stop();
    io.join();

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bool ok = state.failure.empty() && stopped_by.empty() && synced_at.has_value();
    const std::string root = state.verified_root ? to_hex_prefixed(view(*state.verified_root)) : "";
    if (json) {
        nlohmann::json out{{"ok", ok},
                           {"block", state.verified ? nlohmann::json(*state.verified) : nlohmann::json(nullptr)},
                           {"root", root},
                           {"synced_at", synced_at ? nlohmann::json(*synced_at) : nlohmann::json(nullptr)},
                           {"followed", synced_at && state.verified ? *state.verified - *synced_at : 0},
                           {"seconds", seconds},
                           {"accounts", state.accounts},
                           {"slots", state.slots},
                           {"codes", state.codes},
                           {"raw_bytes", state.raw_bytes},
                           {"peak_connections", state.peak_connections},
                           {"stats", stats_json(state.stats)}};
        if (!state.failure.empty()) out["failure"] = state.failure;
        if (!stopped_by.empty()) out["stopped"] = stopped_by;
        std::cout << out.dump() << std::endl;
    } else if (ok) {
        const mgr::SyncStats& s = state.stats;
        std::cout << "synced block " << *state.verified << " root " << root << " in " << seconds << " s ("
                  << state.accounts << " accounts, " << state.slots << " slots, " << state.codes << " codes; "
                  << (state.raw_bytes >> 10) << " KiB raw)\nreceived " << (s.bytes_received >> 10) << " KiB: chunks "
                  << (s.chunk_bytes >> 10) << ", diffs " << (s.diff_bytes >> 10) << ", bare storage "
                  << (s.bare_bytes >> 10) << ", code " << (s.code_bytes >> 10) << " KiB; " << s.rejected_answers
                  << " answers rejected; answers from " << s.peers_used << " peers, " << s.banned_peers
                  << " peers dropped, " << state.peak_connections << " connections at most" << std::endl;
    }
    if (!ok) {
        std::cerr << who << ": "
                  << (!state.failure.empty() ? state.failure
                      : stopped_by.empty()   ? "not synced"
                                             : stopped_by)
                  << "\n";
        return 1;
    }
    return 0;
}

}  // namespace carousel::app
