// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// store::Status is carousel::Status (core/status.hpp), the outcome of every store operation: the
// contract is there. store/ names it as its own so that its interfaces read as before.

#include <carousel/core/status.hpp>

namespace carousel::store {

using carousel::Status;
using carousel::to_string;

}  // namespace carousel::store
