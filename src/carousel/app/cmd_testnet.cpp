// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel testnet`: a Merry-Go-Round network of processes on 127.0.0.1 — one `carousel bridge` and N
// `carousel node`s — started, watched until every node has filled, then kept running (a node process
// that dies is started again on its datadir) until SIGINT or SIGTERM stops them all.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include <carousel/node/process_group.hpp>
#include <carousel/node/status_file.hpp>

#include "commands.hpp"
#include "mgr_network_flags.hpp"
#include "process_signals.hpp"
#include "progress.hpp"

#include <unistd.h>

namespace carousel::app {
namespace {

struct TestnetFlags {
    std::string chain;
    std::size_t nodes = 8;
    std::string dir;
    double block_time_s = 2;
    unsigned radius_bits = 0;
    double fill_timeout_s = 600;
    std::size_t corrupt_nodes = 0;
    bool json = false;
    double measure_s = 0;
    double restart_after_s = 0.5;
    MgrNetworkFlags network;
};

std::filesystem::path self_executable() {
    std::error_code ec;
    auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path{"carousel"} : path;
}

// The radius that gives each region about three copies besides the bridge's archive: N nodes of
// radius R cover N * 2^(R-256) of the key space each region, on average.
unsigned default_radius_bits(std::size_t nodes, unsigned region_bits) {
    const double copies = static_cast<double>(nodes) / 3.0;
    const unsigned shrink = copies <= 1 ? 0 : static_cast<unsigned>(std::floor(std::log2(copies)));
    return std::max(region_bits, 256 - std::min(shrink, 256u));
}

// The last lines of a child's log, for an error message.
std::string log_tail(const std::filesystem::path& log) {
    std::ifstream in{log};
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
        if (lines.size() > 5) lines.erase(lines.begin());
    }
    std::string out;
    for (const std::string& l : lines) out += "\n  " + l;
    return out;
}

class Testnet {
  public:
    explicit Testnet(const TestnetFlags& f) : f_{f}, dir_{f.dir}, group_{self_executable()} {}

    int run() {
        block_stop_signals();  // SIGINT/SIGTERM end the wait below, then stop every process
        std::error_code ec;
        std::filesystem::create_directories(dir_, ec);
        if (ec) return fail(dir_.string() + ": " + ec.message());
        if (!std::filesystem::is_regular_file(std::filesystem::path{f_.chain} / "chain.json")) {
            return fail("--chain " + f_.chain + ": no chain.json (write one with `carousel gen --out DIR`)");
        }
        if (auto started = start_bridge(); !started) return fail(started.error());
        for (std::size_t i = 0; i < f_.nodes; ++i) {
            if (auto started = start_node(i); !started) return fail(started.error());
        }
        if (auto filled = wait_filled(); !filled) return fail(filled.error());
        announce();
        if (f_.measure_s > 0) return measure();
        return supervise();
    }

  private:
    int fail(const std::string& why) {
        std::cerr << "carousel testnet: " << why << "\n";
        group_.stop_all(std::chrono::seconds{5});
        return 1;
    }

    std::vector<std::string> network_args() const {
        return {"--epoch",       std::to_string(f_.network.epoch),
                "--region-bits", std::to_string(f_.network.region_bits),
                "--max-peers",   std::to_string(f_.network.max_peers)};
    }

    tl::expected<void, std::string> start_bridge() {
        const auto bridge_dir = dir_ / "bridge";
        std::filesystem::create_directories(bridge_dir);
        bridge_status_ = bridge_dir / "status.json";
        std::filesystem::remove(bridge_status_);
        node::ProcessSpec spec{
            "bridge",
            {"bridge", "--chain", f_.chain, "--datadir", bridge_dir.string(), "--listen", "127.0.0.1:0", "--block-time",
             std::to_string(f_.block_time_s), "--status-file", bridge_status_.string()},
            bridge_dir / "log"};
        for (auto& a : network_args()) spec.args.push_back(a);
        auto index = group_.start(spec);
        if (!index) return tl::make_unexpected(index.error());
        // Its status file names its record and key once it is up (the genesis is replayed first).
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{300};
        while (std::chrono::steady_clock::now() < give_up) {
            if (!group_.poll(*index)) {
                return tl::make_unexpected("the bridge exited (code " +
                                           std::to_string(group_.exit_code(*index).value_or(-1)) + "); its log " +
                                           spec.log.string() + ":" + log_tail(spec.log));
            }
            if (auto s = node::read_status(bridge_status_); s && s->contains("bootnode")) {
                bootnode_ = (*s)["bootnode"].get<std::string>();
                public_key_ = (*s)["public_key"].get<std::string>();
                return {};
            }
            if (wait_stop_signal(std::chrono::milliseconds{200})) return tl::make_unexpected("stopped");
        }
        return tl::make_unexpected("the bridge wrote no status within 300 s; its log: " + spec.log.string());
    }

    tl::expected<void, std::string> start_node(std::size_t i) {
        const auto node_dir = dir_ / ("node-" + std::to_string(i));
        std::filesystem::create_directories(node_dir);
        const auto status = node_dir / "status.json";
        std::filesystem::remove(status);
        const unsigned radius =
            f_.radius_bits != 0 ? f_.radius_bits : default_radius_bits(f_.nodes, f_.network.region_bits);
        node::ProcessSpec spec{
            "node-" + std::to_string(i),
            {"node", "--datadir", node_dir.string(), "--listen", "127.0.0.1:0", "--bootnode", bootnode_,
             "--trust-bridge", public_key_, "--radius-bits", std::to_string(radius), "--status-file", status.string()},
            node_dir / "log"};
        for (auto& a : network_args()) spec.args.push_back(a);
        if (i >= f_.nodes - std::min(f_.corrupt_nodes, f_.nodes)) spec.args.emplace_back("--test-corrupt-answers");
        auto index = group_.start(spec);
        if (!index) return tl::make_unexpected(index.error());
        node_status_.push_back(status);
        node_index_.push_back(*index);
        return {};
    }

    // Every node's status says "filled" (its stores current); progress on stderr meanwhile.
    tl::expected<void, std::string> wait_filled() {
        const auto start = std::chrono::steady_clock::now();
        const auto give_up = start + std::chrono::milliseconds{static_cast<int64_t>(f_.fill_timeout_s * 1000)};
        Progress progress{"nodes filled", node_index_.size(), !f_.json};
        while (true) {
            std::size_t filled = 0;
            std::string waiting;
            for (std::size_t i = 0; i < node_index_.size(); ++i) {
                if (!group_.poll(node_index_[i])) {
                    const auto& spec = group_.spec(node_index_[i]);
                    return tl::make_unexpected(spec.name + " exited while filling; its log " + spec.log.string() + ":" +
                                               log_tail(spec.log));
                }
                auto s = node::read_status(node_status_[i]);
                if (s && s->value("filled", false)) {
                    ++filled;
                } else if (waiting.size() < 80) {
                    waiting += " node-" + std::to_string(i);
                }
            }
            progress.update(filled);
            if (filled == node_index_.size()) break;
            if (std::chrono::steady_clock::now() > give_up) {
                return tl::make_unexpected(std::to_string(node_index_.size() - filled) + " nodes not filled after " +
                                           std::to_string(f_.fill_timeout_s) + " s:" + waiting);
            }
            if (wait_stop_signal(std::chrono::milliseconds{500})) return tl::make_unexpected("stopped");
        }
        progress.finish();
        fill_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return {};
    }

    void announce() const {
        nlohmann::json nodes = nlohmann::json::array();
        for (std::size_t i = 0; i < node_status_.size(); ++i) {
            auto s = node::read_status(node_status_[i]);
            nodes.push_back({{"enr", s ? s->value("enr", "") : ""},
                             {"status_file", node_status_[i].string()},
                             {"log", group_.spec(node_index_[i]).log.string()}});
        }
        nlohmann::json bootnodes = nlohmann::json::array({bootnode_});
        if (f_.json) {
            std::cout << nlohmann::json{{"bootnodes", bootnodes},
                                        {"bridge", public_key_},
                                        {"dir", dir_.string()},
                                        {"nodes", nodes},
                                        {"bridge_status_file", bridge_status_.string()},
                                        {"fill_seconds", fill_seconds_},
                                        {"epoch", f_.network.epoch},
                                        {"region_bits", f_.network.region_bits}}
                             .dump()
                      << std::endl;
        } else {
            // One line: what filled, and the command that syncs from it.
            std::cout << "testnet of " << node_index_.size() << " nodes filled in " << fill_seconds_ << " s in "
                      << dir_.string() << "; sync from it: carousel sync --mgr --bootnode " << bootnode_
                      << " --trust-bridge " << public_key_ << " --epoch " << f_.network.epoch << " --region-bits "
                      << f_.network.region_bits << " --db DIR" << std::endl;
        }
    }

    // Until SIGINT/SIGTERM: a node process that dies is started again on its datadir (kill -9 in
    // tests), --restart-after seconds after it was seen dead.
    int supervise() {
        using Clock = std::chrono::steady_clock;
        std::vector<std::optional<Clock::time_point>> dead_since(node_index_.size());
        const auto restart_after = std::chrono::duration<double>(f_.restart_after_s);
        while (!wait_stop_signal(std::chrono::milliseconds{100})) {
            for (std::size_t i = 0; i < node_index_.size(); ++i) {
                if (!dead_since[i] && group_.poll(node_index_[i])) continue;
                if (!dead_since[i]) {
                    dead_since[i] = Clock::now();
                    std::filesystem::remove(node_status_[i]);
                    std::cerr << "carousel testnet: node-" << i << " ended (code "
                              << group_.exit_code(node_index_[i]).value_or(-1) << "); starting it again in "
                              << f_.restart_after_s << " s" << std::endl;
                }
                if (Clock::now() - *dead_since[i] < restart_after) continue;
                dead_since[i].reset();
                if (auto again = group_.restart(node_index_[i]); !again) {
                    std::cerr << "carousel testnet: " << again.error() << std::endl;
                }
            }
        }
        group_.stop_all(std::chrono::seconds{5});
        std::cerr << "carousel testnet: stopped" << std::endl;
        return 0;
    }

    // One node's counters at a moment (from its status file and /proc).
    struct NodeSample {
        uint64_t head{0};
        uint64_t content_bytes{0};  // gossip Content sent and received
        uint64_t wire_bytes{0};     // every frame sent and received (DHT, headers, fills, serving)
        uint64_t store_bytes{0};
        std::size_t regions{0};
        uint64_t rss_bytes{0};
        uint64_t disk_bytes{0};
        bool ok{false};
    };

    static uint64_t rss_of(int pid) {
        std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
        }
        return 0;
    }

    static uint64_t disk_of(const std::filesystem::path& dir) {
        uint64_t sum = 0;
        std::error_code ec;
        for (const auto& e : std::filesystem::recursive_directory_iterator{dir, ec}) {
            if (e.is_regular_file(ec)) sum += e.file_size(ec);
        }
        return sum;
    }

    NodeSample sample(std::size_t i) const {
        NodeSample out;
        auto s = node::read_status(node_status_[i]);
        if (!s || s->value("head", nlohmann::json{}).is_null()) return out;
        out.head = (*s)["head"].get<uint64_t>();
        out.content_bytes = (*s)["stats"].value("content_bytes_sent", uint64_t{0}) +
                            (*s)["stats"].value("content_bytes_received", uint64_t{0});
        out.wire_bytes =
            (*s)["wire"].value("bytes_sent", uint64_t{0}) + (*s)["wire"].value("bytes_received", uint64_t{0});
        out.store_bytes = s->value("store_bytes", uint64_t{0});
        out.regions = s->value("regions", std::size_t{0});
        out.rss_bytes = rss_of(s->value("pid", 0));
        out.disk_bytes = disk_of(node_status_[i].parent_path() / "db");
        out.ok = true;
        return out;
    }

    // --measure: samples every node now and `measure_s` later, prints per-node figures (medians and
    // extremes over the nodes), and stops the network.
    int measure() {
        std::vector<NodeSample> before;
        for (std::size_t i = 0; i < node_status_.size(); ++i) before.push_back(sample(i));
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::milliseconds{static_cast<int64_t>(f_.measure_s * 1000)};
        while (std::chrono::steady_clock::now() < until) {
            if (wait_stop_signal(std::chrono::milliseconds{500})) break;
        }
        std::vector<double> gossip;
        std::vector<double> wire;
        std::vector<double> rss;
        std::vector<double> disk;
        std::vector<double> store;
        std::vector<double> share;
        uint64_t blocks = 0;
        for (std::size_t i = 0; i < node_status_.size(); ++i) {
            const NodeSample after = sample(i);
            if (!before[i].ok || !after.ok || after.head <= before[i].head) continue;  // restarted or stalled
            const auto n = static_cast<double>(after.head - before[i].head);
            blocks = std::max(blocks, after.head - before[i].head);
            gossip.push_back(static_cast<double>(after.content_bytes - before[i].content_bytes) / n);
            wire.push_back(static_cast<double>(after.wire_bytes - before[i].wire_bytes) / n);
            rss.push_back(static_cast<double>(after.rss_bytes));
            disk.push_back(static_cast<double>(after.disk_bytes));
            store.push_back(static_cast<double>(after.store_bytes));
            share.push_back(static_cast<double>(after.regions) / std::pow(2.0, 256.0 - f_.network.region_bits));
        }
        const auto summary = [](std::vector<double> v) {
            if (v.empty()) return nlohmann::json{};
            std::sort(v.begin(), v.end());
            return nlohmann::json{{"min", v.front()}, {"median", v[v.size() / 2]}, {"max", v.back()}};
        };
        const nlohmann::json report{{"nodes", node_status_.size()},
                                    {"nodes_measured", gossip.size()},
                                    {"blocks", blocks},
                                    {"fill_seconds", fill_seconds_},
                                    {"gossip_bytes_per_block", summary(gossip)},
                                    {"wire_bytes_per_block", summary(wire)},
                                    {"store_bytes", summary(store)},
                                    {"share_of_state", summary(share)},
                                    {"rss_bytes", summary(rss)},
                                    {"disk_bytes", summary(disk)}};
        if (f_.json) {
            std::cout << report.dump() << std::endl;
        } else if (!gossip.empty()) {
            const auto med = [&](const char* key) { return report[key]["median"].get<double>(); };
            std::cout << "measured " << gossip.size() << " of " << node_status_.size() << " nodes over " << blocks
                      << " blocks: gossip " << med("gossip_bytes_per_block") / 1024 << " KiB per node per block (all "
                      << "traffic " << med("wire_bytes_per_block") / 1024 << " KiB); store "
                      << med("store_bytes") / 1024 << " KiB for " << med("share_of_state") * 100
                      << " % of the state; RSS " << med("rss_bytes") / (1 << 20) << " MiB; disk "
                      << med("disk_bytes") / (1 << 20) << " MiB (medians)" << std::endl;
        } else {
            std::cout << "measured no node: none advanced during --measure" << std::endl;
        }
        group_.stop_all(std::chrono::seconds{5});
        return gossip.empty() ? 1 : 0;
    }

    const TestnetFlags& f_;
    std::filesystem::path dir_;
    node::ProcessGroup group_;
    std::filesystem::path bridge_status_;
    std::string bootnode_;
    std::string public_key_;
    std::vector<std::filesystem::path> node_status_;
    std::vector<std::size_t> node_index_;
    double fill_seconds_{0};
};

}  // namespace

void register_testnet(CLI::App& app) {
    static TestnetFlags f;
    auto* cmd = app.add_subcommand(
        "testnet",
        "Start a Merry-Go-Round network on 127.0.0.1 (a `carousel bridge` for --chain and --nodes `carousel node` "
        "processes on free ports), wait until every node has filled its regions, print how to reach it (--json: "
        "bootnodes and the bridge's key), and keep it running, restarting nodes that die, until SIGINT or SIGTERM "
        "stops every process");
    cmd->add_option("--chain", f.chain, "the directory `carousel gen --out` wrote")->required()->option_text("DIR");
    cmd->add_option("--nodes", f.nodes, "node processes (default 8)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{256}))
        ->option_text("N");
    cmd->add_option("--dir", f.dir, "work directory: each process's datadir, log and status file")
        ->required()
        ->option_text("WORKDIR");
    cmd->add_option("--block-time", f.block_time_s, "seconds between the bridge's blocks (default 2)")
        ->check(CLI::Range(0.05, 3600.0))
        ->option_text("S");
    cmd->add_option("--radius-bits", f.radius_bits,
                    "each node's radius (default: about three copies of each region besides the bridge's)")
        ->check(CLI::Range(1u, 256u))
        ->option_text("R");
    cmd->add_option("--fill-timeout", f.fill_timeout_s, "seconds to wait for every node to fill (default 600)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--test-corrupt-nodes", f.corrupt_nodes,
                    "TESTING ONLY: the last K nodes alter every answer they send (dishonest nodes)")
        ->option_text("K");
    cmd->add_option("--measure", f.measure_s,
                    "once filled, measure the nodes for this many seconds (gossip and all traffic per block, store "
                    "against share of the state, RSS, disk), print the figures and stop the network")
        ->check(CLI::PositiveNumber)
        ->option_text("SECONDS");
    cmd->add_option("--restart-after", f.restart_after_s,
                    "seconds after a node process dies before it is started again on its datadir (default 0.5)")
        ->check(CLI::Range(0.0, 3600.0))
        ->option_text("S");
    add_network_flags(*cmd, f.network);
    cmd->add_flag("--json", f.json,
                  "print one JSON object once the network is filled (no progress line), and one for --measure");
    cmd->callback([] { set_exit_code(Testnet{f}.run()); });
}

}  // namespace carousel::app
