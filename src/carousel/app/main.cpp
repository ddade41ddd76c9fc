// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// The carousel command line. Each subcommand lives in its own file (app/cmd_*.cpp) and registers
// itself here.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"carousel: trustless Ethereum state sync (fast prefix sync and Merry-Go-Round)"};
    app.require_subcommand(1);
    carousel::app::register_commands(app);
    // An unknown subcommand is named (CLI11 would say only that a subcommand is required).
    if (argc > 1 && argv[1][0] != '-') {
        const std::string name = argv[1];
        std::string known;
        bool found = false;
        for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
            found = found || sub->get_name() == name;
            known += (known.empty() ? "" : ", ") + sub->get_name();
        }
        if (!found) {
            std::cerr << "carousel: unknown command '" << name << "' (commands: " << known << "; see --help)\n";
            return 1;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and the like print as CLI11 prints them; an error is one line.
        if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
        std::cerr << "carousel: " << e.what() << " (see --help)\n";
        return e.get_exit_code();
    }
    return carousel::app::exit_code();
}
