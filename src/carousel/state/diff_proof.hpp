// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The per-block proof the seeds' gossip needs: a StateDiff's new values, proven against the block's
// state root. WorldState::prove() produces it; verify_diff_proof() needs only the diff, the proof
// and the root.
//
// What it proves: every key the diff names holds the diff's `after` value (or is absent) at the new
// root. What it cannot prove: that no other key changed. A diff that names a wrong key as cleared
// is still a true statement about that key. Completeness needs a root recomputed over the changed
// region (a Merry-Go-Round node recomputes its block's subtree hash and compares it with the stem
// at the new root; a full node recomputes the state root).

#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/trie/proof.hpp>

#include "state_diff.hpp"

namespace carousel::state {

// Multiproof of a diff at its new root: the account-trie nodes on the paths of every changed
// account, and for each account whose slots changed (and that still exists) the storage-trie nodes
// on the paths of its changed slots, at the account's new storage root.
struct DiffProof {
    std::vector<Bytes> account_nodes;
    std::vector<std::pair<Hash, std::vector<Bytes>>> storage_nodes;  // sorted by account key
    friend bool operator==(const DiffProof&, const DiffProof&) = default;
};

// Verifies `proof` of `diff` against the state root `root`, given nothing else: every changed
// account's new value (or absence) and every changed slot's new value (or absence) is proven, and
// the proof holds no node off those paths.
tl::expected<void, trie::ProofError> verify_diff_proof(const StateDiff& diff, const DiffProof& proof, const Hash& root);

}  // namespace carousel::state
