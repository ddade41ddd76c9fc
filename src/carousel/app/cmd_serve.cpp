// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel serve`: serves a state written by `carousel gen` over TCP with fast prefix sync.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include <carousel/core/hex.hpp>
#include <carousel/net/tcp_transport.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/store/path_layout.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/store/state_store.hpp>

#include "address.hpp"
#include "commands.hpp"

namespace carousel::app {
namespace {

struct ServeOptions {
    std::string db;
    std::string listen = "127.0.0.1:30400";
    bool prepare = false;
};

// `--prepare`: `carousel gen` leaves its last writes in RocksDB's write-ahead log, and a read-only
// open replays the log into memtables on every start: hundreds of MB per server process, and every
// node read walks a big skip list (about half of a server's CPU in a 200k-account sync). Opened for
// writing once, the log goes into table files and the tables are compacted. Then the head state's
// tries are copied in path order (store::PathLayout): a server reads a sub-trie as one scan instead
// of one random lookup per node.
int prepare(const std::filesystem::path& dir) {
    const auto start = std::chrono::steady_clock::now();
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
        auto state = store::StateStore::open(*kv);
        if (!state) {
            std::cerr << "carousel serve --prepare: " << state.error().to_string() << "\n";
            return 1;
        }
        if (auto s = store::PathLayout::build(*kv, (*state)->node_store(), (*state)->head().root); !s.ok()) {
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
    auto address = parse_address(o.listen);
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
    kv_options.read_only = true;  // several servers may share one database
    std::unique_ptr<store::RocksKV> kv;
    if (auto s = store::RocksKV::open(dir, kv_options, kv); !s.ok()) {
        std::cerr << "carousel serve: " << s.to_string() << "\n";
        return 1;
    }
    auto state = store::StateStore::open(*kv);
    if (!state) {
        std::cerr << "carousel serve: " << dir.string() << ": " << state.error().to_string() << "\n";
        return 1;
    }
    const auto head = (*state)->head();
    prefix::ChunkServer server{(*state)->node_store(), &(*state)->code_store(), [root = head.root] { return root; }};
    // A layout from `--prepare` serves full-mode ranges by scan; any root it lacks is walked by hash.
    const store::PathLayout layout{*kv};
    if (layout.root()) server.use_paths(&layout);
    if (layout.root() && *layout.root() != head.root) {
        std::cerr << "carousel serve: the path layout holds root " << to_hex_prefixed(view(*layout.root()))
                  << ", not the head; run --prepare again to serve the head by scan\n";
    }

    // SIGINT/SIGTERM end the server; block them before any thread starts so only sigwait sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    net::TcpTransport transport{server};
    auto port = transport.listen(address->host, address->port);
    if (!port) {
        std::cerr << "carousel serve: cannot listen on " << o.listen << ": " << port.error() << "\n";
        return 1;
    }
    // The first line says where it listens (tests read the port when they asked for port 0).
    std::cout << "listening on " << address->host << ":" << *port << " root " << to_hex_prefixed(view(head.root))
              << " accounts " << head.accounts << " slots " << head.slots << std::endl;
    std::thread io{[&] { transport.run(); }};
    int sig = 0;
    sigwait(&signals, &sig);
    transport.stop();
    io.join();
    const auto& st = server.stats();
    std::cerr << "carousel serve: stopped; " << st.requests << " requests, " << st.nodes_sent << " nodes and "
              << st.leaves_sent << " leaves sent, " << st.bytes_sent << " bytes\n";
    return 0;
}

}  // namespace

void register_serve(CLI::App& app) {
    static ServeOptions opt;
    auto* cmd = app.add_subcommand("serve",
                                   "Serve a state written by `carousel gen` to prefix-sync clients over TCP "
                                   "(GetChunks/ChunkData and GetCode) until SIGINT or SIGTERM");
    cmd->add_option("--db", opt.db, "the directory `carousel gen --out` wrote (or its db/ folder)")->required();
    cmd->add_option("--listen", opt.listen, "HOST:PORT to listen on (port 0: any free port, printed on stdout)");
    cmd->add_flag("--prepare", opt.prepare,
                  "flush and compact the database once (no server may use it meanwhile), then exit: later "
                  "read-only opens are fast and reads cheap");
    cmd->callback([] { set_exit_code(run_serve(opt)); });
}

}  // namespace carousel::app
