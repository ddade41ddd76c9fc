// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "owner_set.hpp"

#include <algorithm>

namespace carousel::mgr {

OwnerSet::OwnerSet(std::vector<Entry> sorted)
    : base_{std::make_shared<const std::vector<Entry>>(std::move(sorted))}, size_{base_->size()} {}

std::optional<Hash> OwnerSet::find(const Hash& account) const {
    if (const auto c = changes_.find(account); c != changes_.end()) {
        return c->second == trie::kEmptyRoot ? std::nullopt : std::optional<Hash>{c->second};
    }
    if (!base_) return std::nullopt;
    const auto b = std::lower_bound(base_->begin(), base_->end(), account,
                                    [](const Entry& e, const Hash& key) { return e.first < key; });
    if (b == base_->end() || b->first != account) return std::nullopt;
    return b->second;
}

void OwnerSet::set(const Hash& account, const Hash& storage_root) {
    const bool was = find(account).has_value();
    const bool is = storage_root != trie::kEmptyRoot;
    changes_[account] = storage_root;
    if (was && !is) --size_;
    if (!was && is) ++size_;
}

void OwnerSet::compact() {
    if (changes_.empty()) return;
    std::vector<Entry> merged;
    merged.reserve(size_);
    for_each([&](const Hash& account, const Hash& root) { merged.emplace_back(account, root); });
    base_ = std::make_shared<const std::vector<Entry>>(std::move(merged));
    changes_.clear();
}

std::vector<OwnerSet::Entry> OwnerSet::list(const Hash& from, std::size_t max) const {
    std::vector<Entry> out;
    walk(from, [&](const Hash& account, const Hash& root) {
        if (out.size() >= max) return false;
        out.emplace_back(account, root);
        return true;
    });
    return out;
}

std::size_t OwnerSet::heap_bytes(bool with_base) const noexcept {
    // A std::map node holds its value and about 48 bytes of links and allocation overhead.
    constexpr std::size_t kMapNodeOverhead = 48;
    const std::size_t base = with_base && base_ ? base_->capacity() * sizeof(Entry) : 0;
    return base + changes_.size() * (sizeof(Entry) + kMapNodeOverhead);
}

}  // namespace carousel::mgr
