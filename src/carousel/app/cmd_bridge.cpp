// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// `carousel bridge`: brings a chain written by `carousel gen` into a Merry-Go-Round network
// (node/bridge_process.hpp) until SIGINT or SIGTERM.
#include <iostream>
#include <thread>

#include <carousel/core/hex.hpp>
#include <carousel/node/bridge_process.hpp>
#include <carousel/node/status_file.hpp>

#include "commands.hpp"
#include "host_port.hpp"
#include "mgr_network_flags.hpp"
#include "process_signals.hpp"

namespace carousel::app {
namespace {

struct BridgeFlags {
    std::string chain;
    std::string datadir;
    std::string listen = "127.0.0.1:0";
    double block_time_s = 12;
    std::string key;
    std::string status_file;
    bool json = false;
    MgrNetworkFlags network;
};

int run_bridge(const BridgeFlags& f) {
    const std::string who = "carousel bridge";
    auto address = parse_host_port(f.listen);
    if (!address) {
        std::cerr << who << ": --listen " << f.listen << ": expected IPv4:PORT\n";
        return 1;
    }
    if (address->port == 65535) {
        std::cerr << who << ": --listen " << f.listen << ": the origin takes the next port; use a lower one\n";
        return 1;
    }
    node::BridgeProcessOptions o;
    o.chain = f.chain;
    o.datadir = f.datadir;
    o.key_file = f.key;
    o.host = address->host;
    o.port = address->port;
    o.block_time = std::chrono::milliseconds{static_cast<int64_t>(f.block_time_s * 1000)};
    o.node = f.network.node_options();

    block_stop_signals();
    auto opened = node::BridgeProcess::open(o);
    if (!opened) {
        std::cerr << who << ": " << opened.error() << "\n";
        return 1;
    }
    node::BridgeProcess& bridge = **opened;
    bridge.start();
    const std::string public_key = to_hex_prefixed(ByteView{bridge.public_key().data(), bridge.public_key().size()});
    if (f.json) {
        std::cout << nlohmann::json{{"bootnode", bridge.bootnode().to_text()}, {"public_key", public_key}}.dump()
                  << std::endl;
    } else {
        std::cout << "bridge public key " << public_key << "\nbootnode " << bridge.bootnode().to_text() << std::endl;
    }
    std::string publisher_error;
    std::thread publisher{[&] {
        auto done = bridge.run_publisher([&](uint64_t number) {
            if (f.json) {
                std::cout << nlohmann::json{{"published", number}}.dump() << std::endl;
            } else {
                std::cout << "published block " << number << std::endl;
            }
        });
        if (!done) publisher_error = done.error();
    }};
    int code = 0;
    while (!wait_stop_signal(std::chrono::milliseconds{1000})) {
        if (f.status_file.empty()) continue;
        if (auto written = node::write_status(f.status_file, bridge.status()); !written) {
            std::cerr << who << ": " << written.error() << "\n";
            code = 1;
            break;
        }
    }
    bridge.stop_publishing();
    publisher.join();
    bridge.stop();
    if (!publisher_error.empty()) {
        std::cerr << who << ": " << publisher_error << "\n";
        code = 1;
    }
    std::cerr << who << ": stopped after block " << bridge.published() << std::endl;
    return code;
}

}  // namespace

void register_bridge(CLI::App& app) {
    static BridgeFlags f;
    auto* cmd = app.add_subcommand(
        "bridge",
        "Bring a chain written by `carousel gen` into a Merry-Go-Round network until SIGINT or SIGTERM: serve its "
        "state (the network fills by pulling it, verified), and publish one block per --block-time: its header "
        "signed with the bridge's key and its changes cut per gossip region. Prints its public key (the nodes' "
        "--trust-bridge) and its record (their --bootnode)");
    cmd->add_option("--chain", f.chain, "the directory `carousel gen --out` wrote")->required()->option_text("DIR");
    cmd->add_option("--datadir", f.datadir, "where the bridge keeps its keys")->required()->option_text("DIR");
    cmd->add_option("--listen", f.listen,
                    "IPv4:PORT for TCP and UDP (default 127.0.0.1:0: a free port); the origin takes PORT+1");
    cmd->add_option("--block-time", f.block_time_s, "seconds between blocks (default 12)")
        ->check(CLI::Range(0.05, 3600.0))
        ->option_text("SECONDS");
    cmd->add_option("--key", f.key, "the signing key's file (default DATADIR/bridge.key, created if missing)")
        ->option_text("FILE");
    add_network_flags(*cmd, f.network);
    cmd->add_option("--status-file", f.status_file, "rewrite this JSON file with the bridge's status every second")
        ->option_text("FILE");
    cmd->add_flag("--json", f.json, "JSON lines instead of text");
    cmd->callback([] { set_exit_code(run_bridge(f)); });
}

}  // namespace carousel::app
