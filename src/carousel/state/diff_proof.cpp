// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "diff_proof.hpp"

namespace carousel::state {

tl::expected<void, trie::ProofError> verify_diff_proof(const StateDiff& diff, const DiffProof& proof,
                                                       const Hash& root) {
    using trie::ProofError;
    if (!validate(diff)) return tl::unexpected{ProofError::kBadNode};
    std::vector<Bytes> keys;
    keys.reserve(diff.accounts.size());
    for (const auto& a : diff.accounts) keys.emplace_back(view(a.key));
    auto values = trie::verify_multiproof(root, keys, proof.account_nodes);
    if (!values) return tl::unexpected{values.error()};
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto& after = diff.accounts[i].after;
        const auto& proven = (*values)[i];
        if (after.has_value() != proven.has_value()) return tl::unexpected{ProofError::kRootMismatch};
        if (after && encode_account(*after) != *proven) return tl::unexpected{ProofError::kRootMismatch};
    }

    std::size_t si = 0;
    std::size_t pi = 0;
    for (const auto& a : diff.accounts) {
        std::vector<Bytes> slot_keys;
        std::vector<const Bytes*> expected;
        for (; si < diff.slots.size() && diff.slots[si].account_key == a.key; ++si) {
            slot_keys.emplace_back(view(diff.slots[si].slot_key));
            expected.push_back(&diff.slots[si].after);
        }
        if (slot_keys.empty() || !a.after) continue;
        if (pi >= proof.storage_nodes.size() || proof.storage_nodes[pi].first != a.key) {
            return tl::unexpected{ProofError::kMissingNode};
        }
        auto slot_values = trie::verify_multiproof(a.after->storage_root, slot_keys, proof.storage_nodes[pi].second);
        if (!slot_values) return tl::unexpected{slot_values.error()};
        for (std::size_t k = 0; k < slot_keys.size(); ++k) {
            if ((*slot_values)[k].value_or(Bytes{}) != *expected[k]) return tl::unexpected{ProofError::kRootMismatch};
        }
        ++pi;
    }
    if (pi != proof.storage_nodes.size()) return tl::unexpected{ProofError::kUnusedNode};
    return {};
}

}  // namespace carousel::state
