// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel sync`: fast prefix sync of a state root from `carousel serve` peers over TCP, into a
// RocksDB database; killed and run again, it resumes (a finished subtree is never fetched twice).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/net/redialer.hpp>
#include <carousel/net/tcp_transport.hpp>
#include <carousel/prefix/prefix_sync.hpp>
#include <carousel/prefix/serving_sync.hpp>
#include <carousel/state/account.hpp>
#include <carousel/store/kv_node_store.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/store/sync_record.hpp>

#include "commands.hpp"
#include "hash_cost.hpp"
#include "host_port.hpp"
#include "mgr_sync_command.hpp"
#include "progress.hpp"
#include "sync_report.hpp"

namespace carousel::app {
namespace {

// kMeta: the root of the whole state the database holds, once a sync of it completed.

struct SyncCommandOptions {
    std::vector<std::string> peers;
    std::string root;
    std::string db;
    std::string mode = "full";
    uint64_t max_response = 512 * 1024;
    double timeout_s = 600;
    double peer_wait_s = 60;  // give up after this long with no peer connected
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
    Status store_status;                                  // a failed read of the database (or the spill)
    prefix::SyncProgress progress;
    std::map<proto::PeerId, prefix::PeerStats> peers;
    std::size_t connected{0};
    std::vector<net::Redialer::Target> targets;  // the peers dialled, by address
    double unreached_s{0};                       // no peer connected or reached for this long
    bool all_given_up{false};
};

// The progress bar's fraction: the account trie's key space held, and of the storage tries found
// the share done, weighted by the bytes verified of each (storage is most of a state's bytes, and
// its tries are found as the accounts arrive, so key space alone ran ahead of the bytes).
uint64_t progress_units(const prefix::SyncProgress& p, uint64_t scale) {
    const double storage =
        p.storage_tries == 0 ? 1.0 : static_cast<double>(p.storage_tries_done) / static_cast<double>(p.storage_tries);
    const double account_bytes = static_cast<double>(p.bytes_account_nodes);
    const double storage_bytes = static_cast<double>(p.bytes_storage_nodes + p.bytes_code);
    const double all = account_bytes + storage_bytes;
    const double storage_weight = all == 0 ? 0.5 : storage_bytes / all;
    // Storage is done only as far as the accounts that name it are: scale it by the account share.
    const double fraction = (1 - storage_weight) * p.account_fraction + storage_weight * p.account_fraction * storage;
    return static_cast<uint64_t>(static_cast<double>(scale) * std::clamp(fraction, 0.0, 1.0));
}

// What the bar shows beside the fraction: bytes and leaves verified.
std::string progress_detail(const prefix::SyncProgress& p) {
    char text[96];
    std::snprintf(text, sizeof text, "%.1f MB, %llu accounts, %llu slots verified",
                  static_cast<double>(p.bytes_account_nodes + p.bytes_storage_nodes + p.bytes_code) / 1e6,
                  static_cast<unsigned long long>(p.accounts), static_cast<unsigned long long>(p.slots));
    return text;
}

// One run of `carousel sync`, in phases: parse() the arguments; open() the database; connect() the
// client, its server side and the dialer on a TCP transport and start them; watch() the sync until it
// ends; finish() flushes, records and reports, and gives the exit code. A phase that fails has
// printed one line and makes run() return 1.
class SyncRun {
  public:
    explicit SyncRun(const SyncCommandOptions& o) : o_(o) {}
    SyncRun(const SyncRun&) = delete;
    SyncRun& operator=(const SyncRun&) = delete;
    ~SyncRun() { stop_transport(); }

    // `reached_peer`: whether any peer was ever connected (a sync that reached none leaves no new
    // database directory behind).
    int run(bool& reached_peer) {
        if (!parse() || !open() || !connect()) return 1;
        const End end = watch();
        return finish(end, reached_peer);
    }

  private:
    enum class End { kDone, kTimeout, kUnavailable, kNoPeer, kSignal, kStoreError };

    // The arguments; one line on the first bad one.
    bool parse() {
        auto root = hash_from_hex(o_.root);
        if (!root) {
            std::cerr << "carousel sync: --root " << o_.root << ": expected 32 bytes of hex\n";
            return false;
        }
        root_ = *root;
        if (o_.mode != "full" && o_.mode != "leaf") {
            std::cerr << "carousel sync: --mode " << o_.mode << ": expected full or leaf\n";
            return false;
        }
        if (o_.stream && o_.mode != "full") {
            std::cerr
                << "carousel sync: --stream needs --mode full (leaf mode continues from the last key it verified)\n";
            return false;
        }
        if (!o_.accounts.empty()) {
            if (o_.mode != "full") {
                std::cerr << "carousel sync: --accounts needs --mode full (light mode follows sub-tries)\n";
                return false;
            }
            auto accounts = read_accounts(o_.accounts);
            if (!accounts) return false;
            light_ = std::move(*accounts);
        }
        auto peers = parse_each(o_.peers, parse_host_port, "--peer", "HOST:PORT");
        if (!peers) return false;
        peers_ = std::move(*peers);
        auto trusted = parse_each(o_.trust, hash_from_hex, "--trust-root", "32 bytes of hex");
        if (!trusted) return false;
        trusted_ = std::move(*trusted);
        trusted_.push_back(root_);
        if (!o_.listen.empty()) {
            listen_ = parse_host_port(o_.listen);
            if (!listen_) {
                std::cerr << "carousel sync: --listen " << o_.listen << ": expected HOST:PORT\n";
                return false;
            }
        }
        return true;
    }

    // The database: opened, its sync record read (a complete state heals a leaf-mode sync) and set to
    // the root this run is after.
    bool open() {
        // RocksDB's memory is bounded here, not by the state: a syncing client reads little (lookups of
        // nodes it may hold, mostly answered by KvNodeStore's filter; leaf mode's rebuild reads its
        // spilled leaves once, in order) and writes in batches.
        store::RocksKV::Options kv_options;
        kv_options.block_cache_bytes = std::size_t{32} << 20;
        kv_options.write_buffer_bytes = std::size_t{32} << 20;  // all memtables together: at most 128 MB
        kv_options.trie_node_level0_files = 32;                 // nodes arrive as table files (KvNodeStore)
        if (auto s = store::RocksKV::open(o_.db, kv_options, kv_); !s.ok()) {
            std::cerr << "carousel sync: " << s.to_string() << "\n";
            return false;
        }
        // A database that holds a whole synced state (its sync record says complete) heals from it:
        // synced to another root, full mode fetches only the sub-tries that differ, where leaf mode
        // would fetch every leaf again. So leaf mode heals in full mode.
        if (auto r = store::read_sync_record(*kv_); r && *r && (*r)->complete) held_ = (*r)->root;
        // The database says what it is after, and (in finish) when it has all of it: `carousel serve`
        // serves only a complete one.
        if (auto s = store::write_sync_record(*kv_, {.root = root_, .complete = false}); !s.ok()) {
            std::cerr << "carousel sync: " << s.to_string() << "\n";
            return false;
        }
        nodes_.emplace(*kv_);
        code_.emplace(*kv_);
        heal_ = o_.mode == "leaf" && light_.empty() && held_ && *held_ != root_;
        if (heal_ && !o_.json) {
            std::cerr << "carousel sync: " << o_.db << " holds the whole state at " << to_hex_prefixed(view(*held_))
                      << ": healing from it as full mode does (only the sub-tries that differ are fetched)\n";
        }
        return true;
    }

    // The client, what it serves, the transport and the dialer; listening (with --listen) and
    // dialling start, on the transport's thread.
    bool connect() {
        prefix::PrefixSyncOptions options;
        options.leaf_mode = o_.mode == "leaf" && !heal_;
        options.max_response_bytes = o_.max_response;
        options.stream = o_.stream;
        options.leaf_spill = kv_.get();  // leaf mode: big tries' leaves wait on disk, not in memory
        for (const auto& [text, key] : light_) options.light_accounts.push_back(key);
        // The header source: the roots given (--root and --trust-root). A server's 0x0 naming one of
        // them moves the sync there; any other root is not taken.
        client_.emplace(*nodes_, *code_, root_, options, [trusted = trusted_](const Hash& r) {
            return std::find(trusted.begin(), trusted.end(), r) != trusted.end();
        });
        // The peers it dials, kept dialled (net::Redialer): a connection that closes is dialled again
        // with back-off, and the sync judges each close (a protocol violation costs standing).
        std::vector<net::Redialer::Target> targets;
        for (const auto& a : peers_) {
            targets.emplace_back();
            targets.back().host = a.host;
            targets.back().port = a.port;
        }
        net::TcpOptions tcp;
        tcp.log = [json = o_.json](std::string_view line) {
            if (!json) std::cerr << "[net] " << line << "\n";
        };
        tcp.on_close = [this](proto::PeerId peer, const std::string& reason, bool violation) {
            if (dialer_) dialer_->on_close(peer, reason, violation);
        };
        // The sync asks the peers it dials; what it verified is served to any peer (partial serving).
        node_.emplace(*client_, *code_);
        transport_.emplace(*node_, tcp);
        auto target_index = [this](const net::Redialer::Target& t) {
            return static_cast<std::size_t>(&t - &dialer_->targets().front());
        };
        dialer_ = std::make_unique<net::Redialer>(
            *transport_, std::move(targets),
            [this, target_index](const net::Redialer::Target& t, proto::PeerId peer,
                                 std::optional<proto::PeerId> previous) {
                node_->adopt_dialled(peer, transport_->now());
                if (previous) client_->reconnected(*previous, peer);
                const auto& stats = client_->peers();
                const auto it = stats.find(peer);
                answers_at_connect_[target_index(t)] = it == stats.end() ? 0 : it->second.answers;
            },
            [this, target_index](const net::Redialer::Target& t, proto::PeerId peer, const std::string& reason,
                                 bool violation) {
                const bool keep = client_->connection_closed(peer, reason, violation);
                const auto& stats = client_->peers();
                const auto it = stats.find(peer);
                const uint64_t answers = it == stats.end() ? 0 : it->second.answers;
                return net::Redialer::Verdict{.give_up = !keep,
                                              .useful = answers > answers_at_connect_[target_index(t)]};
            },
            [json = o_.json](const std::string& line) {
                if (!json) std::cerr << "carousel sync: " << line << "\n";
            });
        // SIGINT/SIGTERM are blocked before any thread starts, so only this thread takes them
        // (sigtimedwait in watch(), sigwait while serving after the sync): a signal ends the sync with
        // a final flush.
        sigemptyset(&signals_);
        sigaddset(&signals_, SIGINT);
        sigaddset(&signals_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
        if (listen_) {
            auto port = transport_->listen(listen_->host, listen_->port);
            if (!port) {
                std::cerr << "carousel sync: cannot listen on " << o_.listen << ": " << port.error() << "\n";
                return false;
            }
            // Tests and scripts read the port from this line (when they asked for port 0).
            std::cerr << "carousel sync: serving on " << listen_->host << ":" << *port << std::endl;
        }
        transport_->post([this] { dialer_->start(); });
        start_ = std::chrono::steady_clock::now();
        io_ = std::thread{[this] { transport_->run(); }};
        return true;
    }

    // A snapshot of the sync, taken on the transport thread. With `durable`, the nodes verified so
    // far are written first, so they survive a kill. Progress alone does not need that: the store
    // writes by size, in big batches (cheaper per node), and watch() asks for durability only every
    // kDurableEvery, which bounds what a kill loses in time as the store bounds it in bytes. It also
    // lets the dialer redial the peers whose back-off has passed.
    Snapshot snapshot(bool durable) {
        auto promise = std::make_shared<std::promise<Snapshot>>();
        auto future = promise->get_future();
        transport_->post([this, durable, promise] {
            if (durable) nodes_->flush();
            dialer_->tick();
            Snapshot snap;
            snap.done = client_->done();
            snap.root = client_->root();
            snap.root_unavailable = client_->root_unavailable();
            snap.store_status = client_->store_status();
            snap.progress = client_->progress();
            snap.peers = client_->peers();
            snap.connected = dialer_->connected();
            snap.targets = dialer_->targets();
            snap.unreached_s = std::chrono::duration<double>(dialer_->unreached_for()).count();
            snap.all_given_up = dialer_->all_given_up();
            promise->set_value(std::move(snap));
        });
        if (future.wait_for(std::chrono::seconds{5}) != std::future_status::ready) return Snapshot{};
        return future.get();
    }

    // Looks at the sync five times a second, with a progress bar, until it is done, a signal comes,
    // or it gives up (no peer has the root, no peer connected, --timeout).
    End watch() {
        constexpr uint64_t kScale = 1'000'000;
        bar_.emplace(o_.mode == "leaf" ? "prefix sync (leaves)" : "prefix sync (sub-tries)", kScale, !o_.json);
        constexpr double kUnavailableGrace = 15;  // s; PrefixSync asks peers that lacked a trie again every 2 s
        double unavailable_since = 0;
        constexpr auto kDurableEvery = std::chrono::seconds{1};
        auto durable_at = start_;
        while (true) {
            // Waits for the next look at the sync, or a signal.
            const timespec tick{0, 200'000'000};
            if (const int sig = sigtimedwait(&signals_, nullptr, &tick); sig > 0) {
                signal_number_ = sig;
                last_ = snapshot(false);
                return End::kSignal;
            }
            const bool durable = std::chrono::steady_clock::now() - durable_at >= kDurableEvery;
            if (durable) durable_at = std::chrono::steady_clock::now();
            last_ = snapshot(durable);
            bar_->update(progress_units(last_.progress, kScale), progress_detail(last_.progress));
            if (last_.done) return End::kDone;
            if (!last_.store_status.ok()) return End::kStoreError;
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
            // No peer has the root: give up once that has lasted past the sync's retry of peers that
            // lacked something (a peer still syncing, serving partially, may get it meanwhile).
            if (!last_.root_unavailable) unavailable_since = elapsed;
            if (elapsed - unavailable_since > kUnavailableGrace) return End::kUnavailable;
            // No peer connected, none reached for --peer-wait (or every one given up for its standing).
            if (!last_.targets.empty() && (last_.all_given_up || last_.unreached_s > o_.peer_wait_s)) {
                return End::kNoPeer;
            }
            if (elapsed > o_.timeout_s) return End::kTimeout;
        }
    }

    void stop_transport() {
        if (!io_.joinable()) return;
        transport_->stop();
        io_.join();
    }

    // Flushes, records a complete sync, reports, and serves on with --listen: the exit code.
    int finish(End end, bool& reached_peer) {
        const Snapshot& s = last_;
        // Without --listen (or on a signal) the transport stops here; with it, it goes on serving (on
        // its own thread, which also does the last flush) until a signal.
        if (listen_ && end == End::kDone) {
            (void)snapshot(true);  // flushes on the transport thread; the wait orders it before the reads below
        } else {
            stop_transport();
            nodes_->flush();
        }
        for (const auto& t : s.targets) reached_peer = reached_peer || t.connections > 0;
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        if (s.done) bar_->finish();
        if (end == End::kStoreError) {
            std::cerr << "carousel sync: reading " << o_.db << " failed: " << s.store_status.to_string()
                      << "; what was verified is saved\n";
            return 1;
        }
        if (!nodes_->status().ok() || !code_->status().ok()) {
            std::cerr << "carousel sync: writing " << o_.db
                      << " failed: " << (nodes_->status().ok() ? code_->status() : nodes_->status()).to_string()
                      << "\n";
            return 1;
        }
        if (end == End::kSignal) {
            // Nothing else is printed: the user asked it to stop.
            const double mb = static_cast<double>(s.progress.bytes_account_nodes + s.progress.bytes_storage_nodes +
                                                  s.progress.bytes_code) /
                              1e6;
            char line[160];
            (void)std::snprintf(line, sizeof line,
                                "carousel sync: interrupted; %.1f MB verified and saved; run again to resume", mb);
            std::cerr << line << std::endl;
            return 128 + signal_number_;
        }
        // Everything is durable (flushed above): a whole state (not a light sync's few accounts) is
        // complete.
        if (s.done && light_.empty()) {
            if (auto w = store::write_sync_record(*kv_, {.root = s.root, .complete = true}); !w.ok()) {
                std::cerr << "carousel sync: " << w.to_string() << "\n";
                return 1;
            }
        }
        report(seconds);
        if (end == End::kNoPeer) {
            // One line: each peer and why it is gone.
            std::string why;
            for (const auto& t : s.targets) {
                const auto id = t.peer ? t.peer : t.previous;
                const auto st = id ? s.peers.find(*id) : s.peers.end();
                std::string gone = st != s.peers.end() && !st->second.gone.empty() ? st->second.gone : t.gone;
                if (gone.empty()) gone = "not reached";
                why += (why.empty() ? "" : "; ") + t.address() + ": " + gone;
            }
            std::cerr << "carousel sync: no peer left ("
                      << (s.all_given_up
                              ? "every one dropped"
                              : "none connected for " + std::to_string(static_cast<int>(s.unreached_s)) + " s")
                      << "): " << why << "; what was verified is saved, run again to resume\n";
            return 1;
        }
        if (!s.done && s.root_unavailable) {
            std::cerr << "carousel sync: no peer has root " << to_hex_prefixed(view(s.root))
                      << " (every one answers 0x0"
                      << (*s.root_unavailable ? ", naming " + to_hex_prefixed(view(**s.root_unavailable)) +
                                                    "; pass --trust-root with it to sync that root instead"
                                              : "")
                      << ")\n";
            return 1;
        }
        if (!s.done) {
            std::cerr << "carousel sync: gave up (--timeout " << o_.timeout_s << " s passed); run again to resume\n";
            return 1;
        }
        if (listen_) {
            std::cerr << "carousel sync: serving the synced state until SIGINT or SIGTERM" << std::endl;
            int sig = 0;
            sigwait(&signals_, &sig);
            stop_transport();
            std::cerr << "carousel sync: stopped serving; " << prefix::describe(node_->server().stats()) << "\n";
        }
        return 0;
    }

    // The summary (or with --json one object): what was synced, against the verify floor, by peer.
    void report(double seconds) {
        const Snapshot& s = last_;
        const auto& p = s.progress;
        // The verify floor: every node received, and in leaf mode every node built from the verified
        // leaves, hashed once, in 8-wide batches, at the cost measured now: (node bytes / 136 + nodes)
        // permutations. The least of five measurements: on a shared machine the others only add other
        // processes' time.
        HashCost cost = measure_hash_cost(110);
        for (int i = 0; i < 4; ++i) cost.batch_ns = std::min(cost.batch_ns, measure_hash_cost(110).batch_ns);
        const double permutations = static_cast<double>(p.node_bytes_received + p.node_bytes_built) / 136.0 +
                                    static_cast<double>(p.nodes_received + p.nodes_built);
        const double floor_s = permutations * cost.batch_ns * 1e-9;
        nlohmann::json j = progress_json(p);
        j["root"] = to_hex_prefixed(view(s.root));
        j["complete"] = s.done;
        j["mode"] = o_.mode;
        j["seconds"] = seconds;
        j["verify_floor_s"] = floor_s;
        j["over_verify_floor"] = floor_s > 0 ? seconds / floor_s : 0.0;
        // Each peer by its address: its record (kept over its reconnections), or why it never connected.
        std::map<proto::PeerId, std::string> names;
        for (const auto& t : s.targets) {
            if (auto id = t.peer ? t.peer : t.previous) names[*id] = t.address();
        }
        j["peers"] = peers_json(s.peers, names);
        for (const auto& t : s.targets) {
            if (t.connections == 0) j["peers"][t.address()] = {{"connected", false}, {"gone", t.gone}};
        }
        if (p.root_moves > 0) j["moved_from"] = to_hex_prefixed(view(root_));
        if (heal_) j["healed_from"] = to_hex_prefixed(view(*held_));
        // "Is this child held already?": how many the node store's filter answered, and how many read the KV.
        j["node_lookups"] = {{"filtered", nodes_->filtered_gets()}, {"kv", nodes_->kv_gets()}};
        // Light mode: each wanted account read from the verified nodes, found or proven absent.
        std::size_t light_found = 0;
        std::size_t light_absent = 0;
        if (!light_.empty()) {
            const auto result = s.done ? client_->light_result() : std::nullopt;
            nlohmann::json list = nlohmann::json::array();
            for (const auto& [text, key] : light_) {
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
            j["light"] = {
                {"wanted", light_.size()}, {"found", light_found}, {"absent", light_absent}, {"accounts", list}};
        }
        if (o_.json) {
            std::cout << j.dump() << "\n";
            return;
        }
        std::cout << "root      " << j["root"].get<std::string>()
                  << (!s.done          ? "  (INCOMPLETE)"
                      : light_.empty() ? "  (complete, every node verified)"
                                       : "  (light: only the chunks of the wanted accounts, every node verified)")
                  << "\naccounts  " << p.accounts << ", slots " << p.slots << " in " << p.storage_tries_done
                  << " storage tries, code " << p.code_done << "\nreceived  " << p.bytes_received << " bytes ("
                  << p.bytes_account_nodes << " account, " << p.bytes_storage_nodes << " storage, " << p.bytes_code
                  << " code) in " << p.requests << " requests, " << seconds << " s\n";
        if (!light_.empty() && s.done) {
            std::cout << "light     " << light_.size() << " accounts asked: " << light_found << " found, "
                      << light_absent << " absent (proven by the verified path), with their storage and code\n";
        }
        if (p.root_moves > 0) {
            std::cout << "moved     from --root " << to_hex_prefixed(view(root_)) << " to the trusted root "
                      << j["root"].get<std::string>() << " (" << p.root_moves
                      << (p.root_moves == 1 ? " move" : " moves") << "; the servers no longer had the older one)\n";
        }
        for (const auto& t : s.targets) {
            const auto id = t.peer ? t.peer : t.previous;
            const auto st = id ? s.peers.find(*id) : s.peers.end();
            std::cout << "peer " << t.address() << "    "
                      << (st != s.peers.end() ? peer_line(st->second) : "never connected: " + t.gone) << "\n";
        }
    }

    const SyncCommandOptions& o_;
    // parse()
    Hash root_{};
    std::vector<std::pair<std::string, Hash>> light_;  // --accounts: as written, and the account key
    std::vector<HostPort> peers_;
    std::vector<Hash> trusted_;
    std::optional<HostPort> listen_;
    // open()
    std::unique_ptr<store::RocksKV> kv_;
    std::optional<Hash> held_;  // the root of the whole state the database held complete
    bool heal_{false};
    std::optional<store::KvNodeStore> nodes_;
    std::optional<store::KvCodeStore> code_;
    // connect(); declared in the order they refer to each other, so they go in the reverse one.
    std::optional<prefix::PrefixSync> client_;
    std::optional<prefix::ServingSync> node_;
    std::optional<net::TcpTransport> transport_;
    std::unique_ptr<net::Redialer> dialer_;
    std::map<std::size_t, uint64_t> answers_at_connect_;  // per target: the answers its record had then
    sigset_t signals_{};
    std::chrono::steady_clock::time_point start_;
    std::thread io_;
    // watch()
    std::optional<Progress> bar_;
    Snapshot last_;
    int signal_number_{0};
};

}  // namespace

void register_sync(CLI::App& app) {
    static SyncCommandOptions opt;
    // A number of seconds above zero; a bad one gets one line naming the value.
    const CLI::Validator positive_seconds{[](std::string& v) -> std::string {
                                              try {
                                                  std::size_t used = 0;
                                                  const double d = std::stod(v, &used);
                                                  if (used == v.size() && d > 0 && d < 1e9) return {};
                                              } catch (const std::exception&) {
                                              }
                                              return "expected a number of seconds above 0, got " + v;
                                          },
                                          "SECONDS > 0"};
    auto* cmd = app.add_subcommand("sync",
                                   "Fast prefix sync of a state root from `carousel serve` peers into a database, "
                                   "verifying every node; run again after a kill to resume");
    static MgrSyncFlags mgr_flags;
    cmd->add_option("--peer", opt.peers, "HOST:PORT of a server (repeat for several; required without --mgr)");
    cmd->add_option("--root", opt.root, "the state root to sync (0x-prefixed hex; required without --mgr)");
    cmd->add_option("--db", opt.db, "database directory (created if missing; reused to resume)")->required();
    cmd->add_option("--mode", opt.mode, "full (whole sub-tries) or leaf (leaves with edge proofs)");
    cmd->add_option("--max-response", opt.max_response, "maxSize of every request, in bytes")
        ->check(CLI::Range(uint64_t{256}, uint64_t{16} << 20));
    cmd->add_option("--timeout", opt.timeout_s, "give up after this many seconds")->check(positive_seconds);
    cmd->add_option("--peer-wait", opt.peer_wait_s,
                    "give up when no peer has been connected for this many seconds (peers whose connection "
                    "closes are dialled again, with back-off, meanwhile)")
        ->check(positive_seconds);
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
    add_mgr_sync_flags(*cmd, mgr_flags);
    cmd->callback([] {
        if (mgr_flags.mgr) {
            if (!opt.peers.empty() || !opt.root.empty()) {
                std::cerr << "carousel sync: --peer and --root are for prefix sync; --mgr finds its nodes through "
                             "--bootnode and the head through --trust-bridge\n";
                set_exit_code(1);
                return;
            }
            set_exit_code(run_mgr_sync(mgr_flags, opt.db, opt.timeout_s, opt.json));
            return;
        }
        if (opt.peers.empty() || opt.root.empty()) {
            std::cerr
                << "carousel sync: --peer and --root are required (or --mgr with --bootnode and --trust-bridge)\n";
            set_exit_code(1);
            return;
        }
        // A database directory this run created and no peer was reached for is removed again.
        std::error_code ec;
        const bool existed = std::filesystem::exists(opt.db, ec);
        bool reached_peer = false;
        set_exit_code(SyncRun{opt}.run(reached_peer));
        if (!existed && !reached_peer && exit_code() != 0) std::filesystem::remove_all(opt.db, ec);
    });
}

}  // namespace carousel::app
