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

// Per peer (by id): requests, bytes, errors, timeouts, rejected chunks, dropped.
nlohmann::json peers_json(const std::map<proto::PeerId, prefix::PeerStats>& peers);

}  // namespace carousel::app
