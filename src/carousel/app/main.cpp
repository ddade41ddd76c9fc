// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// The carousel command line. Each subcommand lives in its own file (app/cmd_*.cpp) and registers
// itself here.
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"carousel: trustless Ethereum state sync (fast prefix sync and Merry-Go-Round)"};
    app.require_subcommand(1);
    carousel::app::register_commands(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    return carousel::app::exit_code();
}
