// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel node`: one Merry-Go-Round storage node (node/mgr_node_process.hpp) until SIGINT or SIGTERM.
#include <iostream>

#include <carousel/dht/node_endpoint.hpp>
#include <carousel/node/mgr_node_process.hpp>
#include <carousel/node/status_file.hpp>

#include "commands.hpp"
#include "host_port.hpp"
#include "mgr_network_flags.hpp"
#include "process_signals.hpp"

namespace carousel::app {
namespace {

struct NodeFlags {
    std::string datadir;
    std::string listen = "127.0.0.1:0";
    std::vector<std::string> bootnodes;
    std::string trust_bridge;
    unsigned radius_bits = 0;
    std::string status_file;
    double report_every_s = 10;
    bool json = false;
    bool corrupt_answers = false;
    MgrNetworkFlags network;
};

// One human line of a node's status.
std::string describe(const nlohmann::json& s) {
    std::string out = "node ";
    out += s.value("filled", false) ? "current" : (s.value("filling", false) ? "filling" : "joining");
    if (!s["head"].is_null()) out += ", head " + std::to_string(s["head"].get<uint64_t>());
    if (!s["latest_header"].is_null()) out += " of " + std::to_string(s["latest_header"].get<uint64_t>());
    out += ", " + std::to_string(s.value("regions", 0)) + " regions, " +
           std::to_string(s.value("store_bytes", uint64_t{0}) >> 10) + " KiB, " +
           std::to_string(s.value("connections", 0)) + " connections, items applied " +
           std::to_string(s["stats"].value("items_applied", uint64_t{0}));
    return out;
}

int run_node(const NodeFlags& f) {
    const std::string who = "carousel node";
    auto address = parse_host_port(f.listen);
    if (!address) {
        std::cerr << who << ": --listen " << f.listen << ": expected IPv4:PORT\n";
        return 1;
    }
    auto bootnodes = parse_bootnodes(f.bootnodes);
    if (!bootnodes) {
        std::cerr << who << ": " << bootnodes.error() << "\n";
        return 1;
    }
    auto trusted = parse_trusted_key(f.trust_bridge);
    if (!trusted) {
        std::cerr << who << ": " << trusted.error() << "\n";
        return 1;
    }
    node::NodeProcessOptions o;
    o.datadir = f.datadir;
    o.host = address->host;
    o.port = address->port;
    o.bootnodes = std::move(*bootnodes);
    o.trusted = *trusted;
    o.radius_bits = f.radius_bits == 0 ? f.network.region_bits : f.radius_bits;
    o.node = f.network.node_options();
    o.corrupt_answers = f.corrupt_answers;

    block_stop_signals();
    auto process = node::MgrNodeProcess::open(o);
    if (!process) {
        std::cerr << who << ": " << process.error() << "\n";
        return 1;
    }
    node::MgrNodeProcess& p = **process;
    p.start();
    const nlohmann::json first = p.status();
    if (f.json) {
        std::cout << first.dump() << std::endl;
    } else {
        std::cout << "node " << first.value("id", "") << " listening on " << address->host << ":"
                  << dht::tcp_address(p.record())->port << (p.reopened() ? " (reopened its datadir)" : "") << "\nenr "
                  << p.record().to_text() << std::endl;
    }
    const auto report_every = std::chrono::milliseconds{static_cast<int64_t>(f.report_every_s * 1000)};
    auto next_report = std::chrono::steady_clock::now() + report_every;
    int code = 0;
    while (!wait_stop_signal(std::chrono::milliseconds{1000})) {
        const nlohmann::json s = p.status();
        if (!f.status_file.empty()) {
            if (auto written = node::write_status(f.status_file, s); !written) {
                std::cerr << who << ": " << written.error() << "\n";
                code = 1;
                break;
            }
        }
        if (std::chrono::steady_clock::now() >= next_report) {
            next_report += report_every;
            if (f.json) {
                std::cout << s.dump() << std::endl;
            } else {
                std::cout << describe(s) << std::endl;
            }
        }
    }
    p.stop();
    std::cerr << who << ": stopped" << std::endl;
    return code;
}

}  // namespace

void register_node(CLI::App& app) {
    static NodeFlags f;
    auto* cmd = app.add_subcommand(
        "node",
        "Run a Merry-Go-Round storage node until SIGINT or SIGTERM: it joins the network through its bootnodes, "
        "fills the regions near its id from the nodes covering them (verified against headers signed by the "
        "bridge), keeps them current from gossip and serves them; its regions persist in --datadir");
    cmd->add_option("--datadir", f.datadir, "where the node keeps its key and its regions (RocksDB)")
        ->required()
        ->option_text("DIR");
    cmd->add_option("--listen", f.listen, "IPv4:PORT for TCP and UDP (default 127.0.0.1:0: a free port)");
    cmd->add_option("--bootnode", f.bootnodes, "a node's record (enr:...) to meet the network through; repeatable")
        ->required()
        ->option_text("ENR");
    cmd->add_option("--trust-bridge", f.trust_bridge,
                    "the bridge's public key (0x + 66 hex digits, as `carousel bridge` prints it): only headers "
                    "signed by it are the chain (it stands in for a beacon-chain light client)")
        ->required()
        ->option_text("0xPUBKEY");
    cmd->add_option("--radius-bits", f.radius_bits,
                    "the node stores the block of 2^R keys around its id (default: one region, --region-bits)")
        ->check(CLI::Range(1u, 256u))
        ->option_text("R");
    add_network_flags(*cmd, f.network);
    cmd->add_option("--status-file", f.status_file, "rewrite this JSON file with the node's status every second")
        ->option_text("FILE");
    cmd->add_option("--report-every", f.report_every_s, "seconds between status lines on stdout (default 10)")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--json", f.json, "status lines as JSON objects");
    cmd->add_flag("--test-corrupt-answers", f.corrupt_answers,
                  "TESTING ONLY: alter every answer this node sends (a dishonest node), so that tests can check "
                  "that clients and joining nodes catch it");
    cmd->callback([] { set_exit_code(run_node(f)); });
}

}  // namespace carousel::app
