// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// corrupt_answer: a liar's answer, for tests and the test-only misbehaviour of a node process
// (`carousel node --test-corrupt-answers`). It alters an answer frame the way a dishonest server
// would, so that what checks answers (a client, a filling node) must catch it:
//  - ChunkData: in every entry, the middle value and the last proof node get one bit flipped;
//  - DiffData: the last change left out (an empty diff: a fake change added);
//  - BareStorage: one value altered and the last owner's part left out;
//  - Items: one byte in the middle of every gossip item flipped;
//  - CodeData: every blob's last byte flipped.
// Every other frame, and a frame of those types that does not decode, is left as it is.

#include <carousel/core/bytes.hpp>

namespace carousel::proto {

void corrupt_answer(Bytes& frame);

}  // namespace carousel::proto
