// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel serve`: serves a state written by `carousel gen` or `carousel sync` over TCP with fast
// prefix sync.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include <carousel/core/hex.hpp>
#include <carousel/net/tcp_transport.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/store/kv_node_store.hpp>
#include <carousel/store/path_layout.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/store/state_store.hpp>
#include <carousel/store/sync_record.hpp>

#include "commands.hpp"
#include "host_port.hpp"
#include "process_signals.hpp"

namespace carousel::app {
namespace {

struct ServeOptions {
    std::string db;
    std::string listen = "127.0.0.1:30400";
    bool prepare = false;
    // What hostile clients may hold (net::TcpOptions): connections, read deadlines, partial frames.
    std::size_t max_peers = 256;
    double idle_timeout_s = 120;
    double frame_timeout_s = 10;
    std::size_t min_frame_rate = std::size_t{64} << 10;
    std::size_t max_partial_mb = 64;
    // Per connection: requests a second and the burst above it (prefix::ServerOptions).
    double rate = prefix::ServerOptions{}.requests_per_second;
    double burst = prefix::ServerOptions{}.burst;
};

std::chrono::milliseconds to_ms(double seconds) {
    return std::chrono::milliseconds{static_cast<int64_t>(seconds * 1000)};
}

// The state a database holds, as a server serves it: the head of a StateStore (`carousel gen`), or
// a complete client database (`carousel sync`: trie nodes and code by hash, and its SyncRecord).
struct ServedState {
    std::unique_ptr<store::StateStore> state;
    std::unique_ptr<store::KvNodeStore> nodes;
    std::unique_ptr<store::KvCodeStore> code;
    Hash root{};
    std::string counts;  // what the listening line says after the root

    trie::NodeStore& node_store() { return state ? state->node_store() : *nodes; }
    state::CodeStore& code_store() { return state ? state->code_store() : *code; }
};

// Opens what `kv` (in `dir`) holds for serving; on failure, one line on standard error (`who` is the
// command) and nullopt. An incomplete sync is refused with how to finish it.
std::optional<ServedState> open_served(store::RocksKV& kv, const std::filesystem::path& dir, const std::string& who) {
    ServedState out;
    // A StateStore with a head block first: a sync run into a generated database does not hide it.
    auto state = store::StateStore::open(kv);
    if (state && (*state)->head().block) {
        out.state = std::move(*state);
        const auto head = out.state->head();
        out.root = head.root;
        out.counts = "accounts " + std::to_string(head.accounts) + " slots " + std::to_string(head.slots);
        return out;
    }
    auto record = store::read_sync_record(kv);
    if (!record) {
        std::cerr << who << ": " << dir.string() << ": " << record.error().to_string() << "\n";
        return std::nullopt;
    }
    if (*record) {
        const std::string root = to_hex_prefixed(view((*record)->root));
        if (!(*record)->complete) {
            std::cerr << who << ": " << dir.string() << " holds an incomplete sync of root " << root
                      << " (written by `carousel sync`, which stopped before it had every node): finish it with "
                         "`carousel sync --root "
                      << root << " --db " << dir.string() << " --peer HOST:PORT ...`, then serve it\n";
            return std::nullopt;
        }
        out.nodes = std::make_unique<store::KvNodeStore>(kv);
        out.code = std::make_unique<store::KvCodeStore>(kv);
        out.root = (*record)->root;
        out.counts = "synced by carousel sync";
        return out;
    }
    if (!state) {
        std::cerr << who << ": " << dir.string() << ": " << state.error().to_string();
        // A client database from before the sync recorded its state: running the sync again does.
        if (state.error().to_string().find("no \"state\" record") != std::string::npos) {
            std::cerr << " (if `carousel sync` wrote it, run that sync again to finish and record it, then serve it)";
        }
        std::cerr << "\n";
        return std::nullopt;
    }
    out.state = std::move(*state);  // an empty state
    out.root = out.state->head().root;
    out.counts = "accounts 0 slots 0";
    return out;
}

// `--prepare`: `carousel gen` leaves its last writes in RocksDB's write-ahead log, and a read-only
// open replays the log into memtables on every start: hundreds of MB per server process, and every
// node read walks a big skip list (about half of a server's CPU in a 200k-account sync). Opened for
// writing once, the log goes into table files and the tables are compacted. Then the head state's
// tries are copied in path order (store::PathLayout): a server reads a sub-trie as one scan instead
// of one random lookup per node.
int prepare(const std::filesystem::path& dir) {
    const auto start = std::chrono::steady_clock::now();
    const std::string who = "carousel serve --prepare";
    {
        // Nothing is written to a database that would then be refused: look read-only first.
        store::RocksKV::Options ro;
        ro.create_if_missing = false;
        ro.read_only = true;
        std::unique_ptr<store::RocksKV> kv;
        if (auto s = store::RocksKV::open(dir, ro, kv); !s.ok()) {
            std::cerr << who << ": " << s.to_string() << "\n";
            return 1;
        }
        if (!open_served(*kv, dir, who)) return 1;
    }
    store::RocksKV::Options kv_options;
    kv_options.create_if_missing = false;
    std::unique_ptr<store::RocksKV> kv;
    if (auto s = store::RocksKV::open(dir, kv_options, kv); !s.ok()) {
        std::cerr << "carousel serve --prepare: " << s.to_string() << "\n";
        return 1;
    }
    if (auto s = kv->flush(); !s.ok()) {
        std::cerr << "carousel serve --prepare: " << s.to_string() << "\n";
        return 1;
    }
    {
        auto served = open_served(*kv, dir, who);
        if (!served) return 1;
        if (auto s = store::PathLayout::build(*kv, served->node_store(), served->root); !s.ok()) {
            std::cerr << "carousel serve --prepare: path layout: " << s.to_string() << "\n";
            return 1;
        }
    }
    if (auto s = kv->flush(); !s.ok()) {
        std::cerr << "carousel serve --prepare: " << s.to_string() << "\n";
        return 1;
    }
    if (auto s = kv->compact(); !s.ok()) {
        std::cerr << "carousel serve --prepare: " << s.to_string() << "\n";
        return 1;
    }
    std::cout << "prepared " << dir.string() << " in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s" << std::endl;
    return 0;
}

int run_serve(const ServeOptions& o) {
    auto address = parse_host_port(o.listen);
    if (!address) {
        std::cerr << "carousel serve: --listen " << o.listen << ": expected HOST:PORT\n";
        return 1;
    }
    // `carousel gen --out DIR` keeps its database in DIR/db; accept either.
    std::filesystem::path dir = o.db;
    if (std::filesystem::is_directory(dir / "db")) dir /= "db";
    if (o.prepare) return prepare(dir);
    store::RocksKV::Options kv_options;
    kv_options.create_if_missing = false;
    kv_options.read_only = true;  // several servers may share one database; no writer may open it meanwhile
    std::unique_ptr<store::RocksKV> kv;
    if (auto s = store::RocksKV::open(dir, kv_options, kv); !s.ok()) {
        std::cerr << "carousel serve: " << s.to_string() << "\n";
        return 1;
    }
    auto served = open_served(*kv, dir, "carousel serve");
    if (!served) return 1;
    prefix::ServerOptions server_options;
    server_options.requests_per_second = o.rate;
    server_options.burst = o.burst;
    prefix::ChunkServer server{served->node_store(), &served->code_store(), [root = served->root] { return root; },
                               server_options};
    // A layout from `--prepare` serves full-mode ranges by scan; any root it lacks is walked by hash.
    const store::PathLayout layout{*kv};
    if (layout.root()) server.use_paths(&layout);
    if (layout.root() && *layout.root() != served->root) {
        std::cerr << "carousel serve: the path layout holds root " << to_hex_prefixed(view(*layout.root()))
                  << ", not the head; run --prepare again to serve the head by scan\n";
    }

    // SIGINT/SIGTERM end the server; blocked before any thread starts so only this thread sees them.
    block_stop_signals();

    net::TcpOptions tcp;
    tcp.max_inbound = o.max_peers;
    tcp.idle_timeout = to_ms(o.idle_timeout_s);
    tcp.frame_timeout = to_ms(o.frame_timeout_s);
    tcp.min_frame_rate = o.min_frame_rate;
    tcp.max_partial_bytes = o.max_partial_mb << 20;
    net::TcpTransport transport{server, tcp};
    auto port = transport.listen(address->host, address->port);
    if (!port) {
        std::cerr << "carousel serve: cannot listen on " << o.listen << ": " << port.error() << "\n";
        return 1;
    }
    // The first line says where it listens (tests read the port when they asked for port 0).
    std::cout << "listening on " << address->host << ":" << *port << " root " << to_hex_prefixed(view(served->root))
              << " " << served->counts << std::endl;
    std::thread io{[&] { transport.run(); }};
    while (!wait_stop_signal(std::chrono::hours{1})) {
    }
    transport.stop();
    io.join();
    const net::TcpStats ts = transport.stats();
    std::cerr << "carousel serve: stopped; " << prefix::describe(server.stats())
              << "; connections: " << ts.connections_opened << " opened, " << ts.connections_evicted
              << " evicted at --max-peers, " << ts.read_deadlines_missed << " past a read deadline, "
              << ts.partial_budget_closes << " over the partial-frame budget\n";
    return 0;
}

}  // namespace

void register_serve(CLI::App& app) {
    static ServeOptions opt;
    auto* cmd = app.add_subcommand(
        "serve",
        "Serve a state written by `carousel gen` or a complete `carousel sync` to prefix-sync clients over TCP "
        "(GetChunks/ChunkData and GetCode) until SIGINT or SIGTERM");
    cmd->add_option("--db", opt.db,
                    "the directory `carousel gen --out` wrote (or its db/ folder), or a `carousel sync --db`")
        ->required();
    cmd->add_option("--listen", opt.listen, "HOST:PORT to listen on (port 0: any free port, printed on stdout)");
    cmd->add_flag("--prepare", opt.prepare,
                  "flush and compact the database once (no server may use it meanwhile), then exit: later "
                  "read-only opens are fast and reads cheap");
    cmd->add_option("--max-peers", opt.max_peers,
                    "connections served at once (default 256); at the cap a new one evicts the connection "
                    "longest without a complete request")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--idle-timeout", opt.idle_timeout_s,
                    "seconds a connection may send nothing before it is closed (default 120; 0: never)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--frame-timeout", opt.frame_timeout_s,
                    "seconds a begun frame may take, plus its length at --min-frame-rate (default 10; 0: no "
                    "deadline)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--min-frame-rate", opt.min_frame_rate,
                    "bytes per second a frame must arrive at, after --frame-timeout (default 65536)");
    cmd->add_option("--max-partial-mb", opt.max_partial_mb,
                    "MiB all partly received frames may hold together (default 64); over it, the connection "
                    "holding the largest is closed")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--rate", opt.rate,
                    "requests a second each connection may send (default 4000); past it and --burst, "
                    "requests get 0x2 back-off")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--burst", opt.burst, "requests a connection may send at once above --rate (default 8000)")
        ->check(CLI::PositiveNumber);
    cmd->callback([] { set_exit_code(run_serve(opt)); });
}

}  // namespace carousel::app
