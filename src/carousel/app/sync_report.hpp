// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The JSON a prefix sync reports (`carousel sync --json`, `carousel demo --json`).

#include <map>

#include <nlohmann/json.hpp>

#include <carousel/prefix/prefix_sync.hpp>

namespace carousel::app {

// Counts and bytes: accounts, slots, storage_tries, code, requests, bytes_received and by kind.
nlohmann::json progress_json(const prefix::SyncProgress& p);

// Per peer (by its name in `names`, else by id): requests, answers, bytes, errors, timeouts, late
// (hedged) answers, rejected chunks, protocol violations, dropped, closed, and why it is gone.
nlohmann::json peers_json(const std::map<proto::PeerId, prefix::PeerStats>& peers,
                          const std::map<proto::PeerId, std::string>& names = {});

// One line of the human summary for a peer: its counters, and why it is gone if it is.
std::string peer_line(const prefix::PeerStats& st);

}  // namespace carousel::app
