// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "sync_report.hpp"

#include <string>

namespace carousel::app {

nlohmann::json progress_json(const prefix::SyncProgress& p) {
    return {{"accounts", p.accounts},
            {"slots", p.slots},
            {"storage_tries", p.storage_tries_done},
            {"code", p.code_done},
            {"requests", p.requests},
            {"bytes_received", p.bytes_received},
            {"bytes_account_nodes", p.bytes_account_nodes},
            {"bytes_storage_nodes", p.bytes_storage_nodes},
            {"bytes_code", p.bytes_code},
            {"nodes_received", p.nodes_received},
            {"nodes_built", p.nodes_built},
            {"root_moves", p.root_moves}};
}

nlohmann::json peers_json(const std::map<proto::PeerId, prefix::PeerStats>& peers,
                          const std::map<proto::PeerId, std::string>& names) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [id, st] : peers) {
        const auto name = names.find(id);
        out[name == names.end() ? std::to_string(id) : name->second] = {
            {"requests", st.requests},     {"answers", st.answers},
            {"bytes", st.bytes_received},  {"errors", st.errors},
            {"timeouts", st.timeouts},     {"late", st.late},
            {"hedged", st.hedged},         {"rejected", st.rejected_chunks},
            {"violations", st.violations}, {"dropped", st.dropped},
            {"closed", st.closed},         {"gone", st.gone}};
    }
    return out;
}

std::string peer_line(const prefix::PeerStats& st) {
    std::string line = std::to_string(st.requests) + " requests, " + std::to_string(st.answers) + " answers, " +
                       std::to_string(st.bytes_received) + " bytes, " + std::to_string(st.errors) + " errors, " +
                       std::to_string(st.hedged) + " hedged (" + std::to_string(st.late) + " answered late), " +
                       std::to_string(st.timeouts) + " timeouts, " + std::to_string(st.rejected_chunks) +
                       " rejected chunks";
    if (st.violations > 0) line += ", " + std::to_string(st.violations) + " protocol violations";
    if (!st.gone.empty()) line += "; " + st.gone;
    return line;
}

}  // namespace carousel::app
