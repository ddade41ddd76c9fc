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

nlohmann::json peers_json(const std::map<proto::PeerId, prefix::PeerStats>& peers) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [id, st] : peers) {
        out[std::to_string(id)] = {
            {"requests", st.requests}, {"bytes", st.bytes_received},     {"errors", st.errors},
            {"timeouts", st.timeouts}, {"rejected", st.rejected_chunks}, {"dropped", st.dropped}};
    }
    return out;
}

}  // namespace carousel::app
