// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// HeaderSource: where a Merry-Go-Round node or client learns the state root of a block.

#include <cstdint>
#include <functional>
#include <optional>

#include <carousel/core/bytes.hpp>

namespace carousel::mgr {

// The state root of a block, from a source the node trusts (a consensus client; in processes, the
// HeaderBook; in simulations, the generated chain); nullopt while the block is not known.
using HeaderSource = std::function<std::optional<Hash>(uint64_t number)>;

}  // namespace carousel::mgr
