// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// OwnerSet: the accounts with a non-empty storage root at one state root, with those roots — what
// each version of an EpochStore keeps (mgr/epoch_store.hpp).
//
// A sorted flat base, shared by every copy (copying an OwnerSet copies a pointer), plus the changes
// made on top of it since it was last compacted. EpochStore compacts the head at each boundary, so
// the latest epoch and the head share one base and the head's own cost is the owners changed since
// the boundary: a store holds two bases (the previous and the latest epoch), 64 bytes per owner
// each, where it held a std::map (about 112 bytes per owner) per version, three or four of them.
// Every store still holds every owner of the state: an overhead that does not shrink with the
// radius (issue 17; docs/MGR.md).
//
// Not thread-safe; copies may be used from different threads only if none is changed.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::mgr {

class OwnerSet {
  public:
    using Entry = std::pair<Hash, Hash>;  // (account key, storage root)

    OwnerSet() = default;
    // From owners in strictly increasing account order, none with the empty root (not checked).
    explicit OwnerSet(std::vector<Entry> sorted);

    // The storage root of `account`, or nullopt when it is not an owner.
    [[nodiscard]] std::optional<Hash> find(const Hash& account) const;
    // Makes `account` an owner with `storage_root`, or no owner when it is trie::kEmptyRoot.
    void set(const Hash& account, const Hash& storage_root);
    // Folds the changes into a new base (O(size)); copies made before keep the old one.
    void compact();

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    // Calls f(account, storage_root) for every owner, in increasing account order.
    template <class F>
    void for_each(F&& f) const;
    // Whether pred(account, storage_root) holds for some owner; stops at the first that does.
    template <class F>
    [[nodiscard]] bool any_of(F&& pred) const;
    // Up to `max` owners from the first account not below `from` on, increasing.
    [[nodiscard]] std::vector<Entry> list(const Hash& from = Hash{}, std::size_t max = SIZE_MAX) const;
    // Heap bytes this set holds: its changes and, with `with_base`, its base (which copies share).
    [[nodiscard]] std::size_t heap_bytes(bool with_base = true) const noexcept;
    // Whether the two sets share one base.
    [[nodiscard]] bool shares_base(const OwnerSet& other) const noexcept { return base_ == other.base_; }

  private:
    // Calls f(account, storage_root) for the owners from `from` on, increasing, while f returns true.
    template <class F>
    void walk(const Hash& from, F&& f) const;

    std::shared_ptr<const std::vector<Entry>> base_;
    std::map<Hash, Hash> changes_;  // over base_; trie::kEmptyRoot: removed
    std::size_t size_{0};
};

template <class F>
void OwnerSet::for_each(F&& f) const {
    walk(Hash{}, [&](const Hash& account, const Hash& root) {
        f(account, root);
        return true;
    });
}

template <class F>
bool OwnerSet::any_of(F&& pred) const {
    bool found = false;
    walk(Hash{}, [&](const Hash& account, const Hash& root) {
        found = pred(account, root);
        return !found;
    });
    return found;
}

template <class F>
void OwnerSet::walk(const Hash& from, F&& f) const {
    static const std::vector<Entry> kNone;
    const std::vector<Entry>& base = base_ ? *base_ : kNone;
    auto b =
        std::lower_bound(base.begin(), base.end(), from, [](const Entry& e, const Hash& key) { return e.first < key; });
    auto c = changes_.lower_bound(from);
    while (b != base.end() || c != changes_.end()) {
        // The smaller key next; a change replaces the base entry of the same account.
        if (b == base.end() || (c != changes_.end() && !(b->first < c->first))) {
            if (b != base.end() && b->first == c->first) ++b;
            const auto& [account, root] = *c++;
            if (root != trie::kEmptyRoot && !f(account, root)) return;
        } else {
            const auto& [account, root] = *b++;
            if (!f(account, root)) return;
        }
    }
}

}  // namespace carousel::mgr
