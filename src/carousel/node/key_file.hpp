// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// A node's (or the bridge's) secp256k1 secret key in a file, as go-ethereum keeps its `nodekey`:
// 64 hex digits (an optional 0x and a final newline allowed), nothing else. The key is the node's
// identity: its node id is keccak256 of the public key (dht/node_key.hpp), so a node that restarts
// on its datadir comes back at the same place in the key space.
//
// load_or_create_key(path): reads the key if the file exists; otherwise makes a new one from the
// system's random source and writes it with mode 0600 (created exclusively, so two processes
// starting on one datadir cannot both write one). Every failure is one line naming the file.

#include <filesystem>
#include <string>

#include <tl/expected.hpp>

#include <carousel/dht/node_key.hpp>

namespace carousel::node {

tl::expected<dht::KeyPair, std::string> load_key(const std::filesystem::path& path);
tl::expected<dht::KeyPair, std::string> load_or_create_key(const std::filesystem::path& path);

}  // namespace carousel::node
