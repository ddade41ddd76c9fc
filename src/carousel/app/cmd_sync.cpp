// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel sync`: fast prefix sync of a state root from `carousel serve` peers over TCP, into a
// RocksDB database; killed and run again, it resumes (a finished subtree is never fetched twice).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/net/tcp_transport.hpp>
#include <carousel/prefix/prefix_sync.hpp>
#include <carousel/prefix/serving_sync.hpp>
#include <carousel/state/account.hpp>
#include <carousel/store/kv_node_store.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/store/sync_record.hpp>

#include "address.hpp"
#include "commands.hpp"
#include "hash_cost.hpp"
#include "progress.hpp"
#include "sync_report.hpp"

namespace carousel::app {
namespace {

struct SyncCommandOptions {
    std::vector<std::string> peers;
    std::string root;
    std::string db;
    std::string mode = "full";
    uint64_t max_response = 512 * 1024;
    double timeout_s = 600;
    bool json = false;
    std::string accounts;            // light mode: a file of addresses
    bool stream = false;             // full mode: ask for streamed answers
    std::vector<std::string> trust;  // roots the header source vouches for besides --root
    std::string listen;              // serve the verified chunks here while syncing, and after until a signal
};

// `--accounts FILE`: one account a line, a 0x-prefixed 20-byte address (hashed to its trie key) or
// a 32-byte account key (keccak256 of the address, the trie's own key space, as the states `carousel
// gen` writes use); blank lines and lines starting with '#' are skipped. On a bad line: one error
// line naming the file and line, and nullopt.
std::optional<std::vector<std::pair<std::string, Hash>>> read_accounts(const std::string& path) {
    std::ifstream in{path};
    if (!in) {
        std::cerr << "carousel sync: --accounts " << path << ": cannot read the file\n";
        return std::nullopt;
    }
    std::vector<std::pair<std::string, Hash>> out;
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        const auto last = line.find_last_not_of(" \t\r");
        const std::string text = line.substr(first, last - first + 1);
        std::optional<Bytes> bytes;
        if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) bytes = from_hex(text);
        if (!bytes || (bytes->size() != 20 && bytes->size() != 32)) {
            std::cerr << "carousel sync: --accounts " << path << " line " << n
                      << ": expected a 0x-prefixed 20-byte address or 32-byte account key, got '" << text.substr(0, 80)
                      << "'\n";
            return std::nullopt;
        }
        out.emplace_back(text, bytes->size() == 20 ? keccak256(*bytes) : to_hash(*bytes));
    }
    if (out.empty()) {
        std::cerr << "carousel sync: --accounts " << path << ": no accounts in the file\n";
        return std::nullopt;
    }
    return out;
}

// Parses every value of a repeated option; at the first bad one, one line naming it, and nullopt.
template <class Parse>
auto parse_each(const std::vector<std::string>& values, Parse parse, std::string_view option, std::string_view expected)
    -> std::optional<std::vector<typename decltype(parse(values[0]))::value_type>> {
    std::vector<typename decltype(parse(values[0]))::value_type> out;
    for (const auto& v : values) {
        auto parsed = parse(v);
        if (!parsed) {
            std::cerr << "carousel sync: " << option << " " << v << ": expected " << expected << "\n";
            return std::nullopt;
        }
        out.push_back(std::move(*parsed));
    }
    return out;
}

struct Snapshot {
    bool done{false};
    Hash root{};                                          // the root being synced (a trusted newer one after a move)
    std::optional<std::optional<Hash>> root_unavailable;  // every peer answered 0x0 for it
    prefix::SyncProgress progress;
    std::map<proto::PeerId, prefix::PeerStats> peers;
    std::size_t connected{0};
};

int run_sync(const SyncCommandOptions& o) {
    auto root = hash_from_hex(o.root);
    if (!root) {
        std::cerr << "carousel sync: --root " << o.root << ": expected 32 bytes of hex\n";
        return 1;
    }
    if (o.mode != "full" && o.mode != "leaf") {
        std::cerr << "carousel sync: --mode " << o.mode << ": expected full or leaf\n";
        return 1;
    }
    if (o.stream && o.mode != "full") {
        std::cerr << "carousel sync: --stream needs --mode full (leaf mode continues from the last key it verified)\n";
        return 1;
    }
    std::vector<std::pair<std::string, Hash>> light;
    if (!o.accounts.empty()) {
        if (o.mode != "full") {
            std::cerr << "carousel sync: --accounts needs --mode full (light mode follows sub-tries)\n";
            return 1;
        }
        auto accounts = read_accounts(o.accounts);
        if (!accounts) return 1;
        light = std::move(*accounts);
    }
    auto peers = parse_each(o.peers, parse_address, "--peer", "HOST:PORT");
    if (!peers) return 1;
    auto trusted = parse_each(o.trust, hash_from_hex, "--trust-root", "32 bytes of hex");
    if (!trusted) return 1;
    trusted->push_back(*root);
    std::optional<Address> listen;
    if (!o.listen.empty()) {
        listen = parse_address(o.listen);
        if (!listen) {
            std::cerr << "carousel sync: --listen " << o.listen << ": expected HOST:PORT\n";
            return 1;
        }
    }
    // RocksDB's memory is bounded here, not by the state: a syncing client reads little (lookups of
    // nodes it may hold, mostly answered by KvNodeStore's filter; leaf mode's rebuild reads its
    // spilled leaves once, in order) and writes in batches.
    store::RocksKV::Options kv_options;
    kv_options.block_cache_bytes = std::size_t{32} << 20;
    kv_options.write_buffer_bytes = std::size_t{32} << 20;  // all memtables together: at most 128 MB
    kv_options.trie_node_level0_files = 32;                 // nodes arrive as table files (KvNodeStore)
    std::unique_ptr<store::RocksKV> kv;
    if (auto s = store::RocksKV::open(o.db, kv_options, kv); !s.ok()) {
        std::cerr << "carousel sync: " << s.to_string() << "\n";
        return 1;
    }
    // The database says what it is after, and (below) when it has all of it: `carousel serve`
    // serves only a complete one.
    if (auto s = store::write_sync_record(*kv, {.root = *root, .complete = false}); !s.ok()) {
        std::cerr << "carousel sync: " << s.to_string() << "\n";
        return 1;
    }
    store::KvNodeStore nodes{*kv};
    store::KvCodeStore code{*kv};
    prefix::SyncOptions options;
    options.leaf_mode = o.mode == "leaf";
    options.max_response_bytes = o.max_response;
    options.stream = o.stream;
    options.leaf_spill = kv.get();  // leaf mode: big tries' leaves wait on disk, not in memory
    for (const auto& [text, key] : light) options.light_accounts.push_back(key);
    const Hash target = *root;
    // The header source: the roots given (--root and --trust-root). A server's 0x0 naming one of
    // them moves the sync there; any other root is not taken.
    prefix::PrefixSync client{nodes, code, target, options, [trusted = *trusted](const Hash& r) {
                                  return std::find(trusted.begin(), trusted.end(), r) != trusted.end();
                              }};
    net::TcpOptions tcp;
    tcp.log = [json = o.json](std::string_view line) {
        if (!json) std::cerr << "[net] " << line << "\n";
    };
    // The sync asks the peers it dials; what it verified is served to any peer (partial serving).
    prefix::ServingSync node{client, code};
    net::TcpTransport transport{node, tcp};
    sigset_t signals;
    if (listen) {
        // SIGINT/SIGTERM end the serving that follows the sync: blocked before any thread starts,
        // so only sigwait sees them.
        sigemptyset(&signals);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals, nullptr);
        auto port = transport.listen(listen->host, listen->port);
        if (!port) {
            std::cerr << "carousel sync: cannot listen on " << o.listen << ": " << port.error() << "\n";
            return 1;
        }
        // Tests and scripts read the port from this line (when they asked for port 0).
        std::cerr << "carousel sync: serving on " << listen->host << ":" << *port << std::endl;
    }
    std::size_t connected = 0;
    for (const auto& a : *peers) {
        auto id = transport.connect(a.host, a.port);
        if (!id) {
            std::cerr << "carousel sync: " << id.error() << "\n";  // names the address
            continue;
        }
        node.dialled(*id);
        ++connected;
    }
    if (connected == 0) {
        std::cerr << "carousel sync: no peer reachable\n";
        return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    std::thread io{[&] { transport.run(); }};
    // A snapshot of the sync, taken on the transport thread. With `durable`, the nodes verified so
    // far are written first, so they survive a kill. Progress alone does not need that: the store
    // writes by size, in big batches (cheaper per node), and the loop below asks for durability
    // only every kDurableEvery, which bounds what a kill loses in time as the store bounds it in bytes.
    auto snapshot = [&](bool durable) {
        auto promise = std::make_shared<std::promise<Snapshot>>();
        auto future = promise->get_future();
        transport.post([&, durable, promise] {
            if (durable) nodes.flush();
            promise->set_value(
                {client.done(), client.root(), client.root_unavailable(), client.progress(), client.peers(), 0});
        });
        if (future.wait_for(std::chrono::seconds{5}) != std::future_status::ready) return Snapshot{};
        return future.get();
    };
    constexpr uint64_t kScale = 1'000'000;
    Progress bar{o.mode == "leaf" ? "prefix sync (leaves)" : "prefix sync (sub-tries)", kScale, !o.json};
    Snapshot s;
    bool timed_out = false;
    constexpr double kUnavailableGrace = 15;  // s; PrefixSync asks peers that lacked a trie again every 10 s
    double unavailable_since = 0;
    constexpr auto kDurableEvery = std::chrono::seconds{1};
    auto durable_at = start;
    while (true) {
        std::this_thread::sleep_for(std::chrono::milliseconds{200});
        const bool durable = std::chrono::steady_clock::now() - durable_at >= kDurableEvery;
        if (durable) durable_at = std::chrono::steady_clock::now();
        s = snapshot(durable);
        const double storage = s.progress.storage_tries == 0 ? 1.0
                                                             : static_cast<double>(s.progress.storage_tries_done) /
                                                                   static_cast<double>(s.progress.storage_tries);
        bar.update(static_cast<uint64_t>(kScale * (0.5 * s.progress.account_fraction + 0.5 * storage)));
        if (s.done) break;
        bool all_dropped = !s.peers.empty();
        for (const auto& [id, st] : s.peers) all_dropped = all_dropped && st.dropped;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        // No peer has the root: give up once that has lasted past the sync's retry of peers that
        // lacked something (a peer still syncing, serving partially, may get it meanwhile).
        if (!s.root_unavailable) unavailable_since = elapsed;
        if (all_dropped || elapsed > o.timeout_s || elapsed - unavailable_since > kUnavailableGrace) {
            timed_out = true;
            break;
        }
    }
    // Without --listen the transport stops here; with it, it goes on serving (on its own thread,
    // which also does the last flush) until a signal.
    auto stop_transport = [&] {
        if (!io.joinable()) return;
        transport.stop();
        io.join();
    };
    if (listen) {
        (void)snapshot(true);  // flushes on the transport thread; the wait orders it before the reads below
    } else {
        stop_transport();
        nodes.flush();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s.done) bar.finish();
    if (!nodes.status().ok() || !code.status().ok()) {
        std::cerr << "carousel sync: writing " << o.db
                  << " failed: " << (nodes.status().ok() ? code.status() : nodes.status()).to_string() << "\n";
        stop_transport();
        return 1;
    }
    // Everything is durable (flushed above): a whole state (not a light sync's few accounts) is complete.
    if (s.done && light.empty()) {
        if (auto w = store::write_sync_record(*kv, {.root = s.root, .complete = true}); !w.ok()) {
            std::cerr << "carousel sync: " << w.to_string() << "\n";
            stop_transport();
            return 1;
        }
    }

    const auto& p = s.progress;
    // The verify floor: every node received, and in leaf mode every node built from the verified
    // leaves, hashed once, in 8-wide batches, at the cost measured now: (node bytes / 136 + nodes)
    // permutations.
    // The least of five measurements: on a shared machine the others only add other processes' time.
    HashCost cost = measure_hash_cost(110);
    for (int i = 0; i < 4; ++i) cost.batch_ns = std::min(cost.batch_ns, measure_hash_cost(110).batch_ns);
    const double permutations = static_cast<double>(p.node_bytes_received + p.node_bytes_built) / 136.0 +
                                static_cast<double>(p.nodes_received + p.nodes_built);
    const double floor_s = permutations * cost.batch_ns * 1e-9;
    nlohmann::json j = progress_json(p);
    j["root"] = to_hex_prefixed(view(s.root));
    j["complete"] = s.done;
    j["mode"] = o.mode;
    j["seconds"] = seconds;
    j["verify_floor_s"] = floor_s;
    j["over_verify_floor"] = floor_s > 0 ? seconds / floor_s : 0.0;
    j["peers"] = peers_json(s.peers);
    // "Is this child held already?": how many the node store's filter answered, and how many read the KV.
    j["node_lookups"] = {{"filtered", nodes.filtered_gets()}, {"kv", nodes.kv_gets()}};
    // Light mode: each wanted account read from the verified nodes, found or proven absent.
    std::size_t light_found = 0;
    std::size_t light_absent = 0;
    if (!light.empty()) {
        const auto result = s.done ? client.light_result() : std::nullopt;
        nlohmann::json list = nlohmann::json::array();
        for (const auto& [text, key] : light) {
            nlohmann::json a = {{"account", text}, {"key", to_hex_prefixed(view(key))}};
            if (result) {
                auto it = std::find_if(result->begin(), result->end(),
                                       [&key = key](const prefix::LightAccount& r) { return r.key == key; });
                if (it != result->end() && it->value) {
                    ByteView in = *it->value;
                    auto acc = state::decode_account(in);
                    a["found"] = true;
                    a["account_rlp"] = to_hex_prefixed(*it->value);
                    if (acc) {
                        a["nonce"] = acc->nonce;
                        a["storage_root"] = to_hex_prefixed(view(acc->storage_root));
                        a["code_hash"] = to_hex_prefixed(view(acc->code_hash));
                    }
                    ++light_found;
                } else if (it != result->end()) {
                    a["found"] = false;
                    ++light_absent;
                }
            }
            list.push_back(std::move(a));
        }
        j["light"] = {{"wanted", light.size()}, {"found", light_found}, {"absent", light_absent}, {"accounts", list}};
    }
    if (o.json) {
        std::cout << j.dump() << "\n";
    } else {
        std::cout << "root      " << j["root"].get<std::string>()
                  << (!s.done         ? "  (INCOMPLETE)"
                      : light.empty() ? "  (complete, every node verified)"
                                      : "  (light: only the chunks of the wanted accounts, every node verified)")
                  << "\naccounts  " << p.accounts << ", slots " << p.slots << " in " << p.storage_tries_done
                  << " storage tries, code " << p.code_done << "\nreceived  " << p.bytes_received << " bytes ("
                  << p.bytes_account_nodes << " account, " << p.bytes_storage_nodes << " storage, " << p.bytes_code
                  << " code) in " << p.requests << " requests, " << seconds << " s\n";
        if (!light.empty() && s.done) {
            std::cout << "light     " << light.size() << " accounts asked: " << light_found << " found, "
                      << light_absent << " absent (proven by the verified path), with their storage and code\n";
        }
        for (const auto& [id, st] : s.peers) {
            std::cout << "peer " << id << "    " << st.requests << " requests, " << st.bytes_received << " bytes, "
                      << st.errors << " errors, " << st.timeouts << " timeouts, " << st.rejected_chunks
                      << " rejected chunks" << (st.dropped ? ", dropped" : "") << "\n";
        }
    }
    if (timed_out && !s.done && s.root_unavailable) {
        std::cerr << "carousel sync: no peer has root " << to_hex_prefixed(view(s.root)) << " (every one answers 0x0"
                  << (*s.root_unavailable ? ", naming " + to_hex_prefixed(view(**s.root_unavailable)) +
                                                "; pass --trust-root with it to sync that root instead"
                                          : "")
                  << ")\n";
        stop_transport();
        return 1;
    }
    if (timed_out && !s.done) {
        std::cerr << "carousel sync: gave up (" << (seconds > o.timeout_s ? "timeout" : "every peer dropped")
                  << "); run again to resume\n";
        stop_transport();
        return 1;
    }
    if (listen) {
        std::cerr << "carousel sync: serving the synced state until SIGINT or SIGTERM" << std::endl;
        int sig = 0;
        sigwait(&signals, &sig);
        stop_transport();
        std::cerr << "carousel sync: stopped serving; " << prefix::describe(node.server().stats()) << "\n";
    }
    return 0;
}

}  // namespace

void register_sync(CLI::App& app) {
    static SyncCommandOptions opt;
    auto* cmd = app.add_subcommand("sync",
                                   "Fast prefix sync of a state root from `carousel serve` peers into a database, "
                                   "verifying every node; run again after a kill to resume");
    cmd->add_option("--peer", opt.peers, "HOST:PORT of a server (repeat for several)")->required();
    cmd->add_option("--root", opt.root, "the state root to sync (0x-prefixed hex)")->required();
    cmd->add_option("--db", opt.db, "database directory (created if missing; reused to resume)")->required();
    cmd->add_option("--mode", opt.mode, "full (whole sub-tries) or leaf (leaves with edge proofs)");
    cmd->add_option("--max-response", opt.max_response, "maxSize of every request, in bytes")
        ->check(CLI::Range(uint64_t{256}, uint64_t{16} << 20));
    cmd->add_option("--timeout", opt.timeout_s, "give up after this many seconds");
    cmd->add_flag("--json", opt.json, "print one JSON object instead of the summary");
    cmd->add_option("--accounts", opt.accounts,
                    "light mode: a file of accounts (0x-prefixed address, or 32-byte account key, one a line); "
                    "syncs only the chunks covering them, with their storage and code");
    cmd->add_flag("--stream", opt.stream,
                  "full mode: ask servers to stream each cut sub-trie's continuation instead of waiting for a "
                  "request per chunk");
    cmd->add_option("--trust-root", opt.trust,
                    "a newer state root the header source vouches for (repeat for several): a server that no "
                    "longer has --root and names this one moves the sync there, keeping what it verified");
    cmd->add_option("--listen", opt.listen,
                    "HOST:PORT to serve the verified chunks on while syncing (port 0: any free port, named on "
                    "stderr); once synced, serves the whole state until SIGINT or SIGTERM");
    cmd->callback([] { set_exit_code(run_sync(opt)); });
}

}  // namespace carousel::app
