// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "routing_table.hpp"

#include <algorithm>

#include <carousel/core/assert.hpp>

namespace carousel::dht {

namespace {

// Sorts contacts by XOR distance to `target`, closest first. Ids in a table are distinct, so the
// order is total and the sort deterministic.
void sort_by_distance(std::vector<Contact>& v, const Hash& target) {
    std::sort(v.begin(), v.end(), [&](const Contact& a, const Contact& b) { return closer(target, a.id, b.id); });
}

}  // namespace

RoutingTable::RoutingTable(NodeId self, std::size_t k, unsigned max_failures)
    : self_{self}, k_{std::max<std::size_t>(k, 1)}, max_failures_{std::max(max_failures, 1u)} {}

RoutingTable::Bucket* RoutingTable::bucket_of(const NodeId& id) {
    const unsigned d = log_distance(self_, id);
    return d == 0 ? nullptr : &buckets_[d - 1];
}

RoutingTable::Update RoutingTable::update(const Contact& contact, Time now) {
    Bucket* b = bucket_of(contact.id);
    if (b == nullptr) return Update::kIgnored;
    auto& entries = b->entries;
    const auto it =
        std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.contact.id == contact.id; });
    if (it != entries.end()) {
        entries.erase(it);
        entries.push_back({contact, now, 0});
        return Update::kRefreshed;
    }
    auto& repl = b->replacements;
    const auto r = std::find_if(repl.begin(), repl.end(), [&](const Contact& c) { return c.id == contact.id; });
    if (r != repl.end()) repl.erase(r);
    if (entries.size() < k_) {
        // Replacements exist only while the bucket is full, so this contact was not one.
        entries.push_back({contact, now, 0});
        ++size_;
        return Update::kAdded;
    }
    repl.push_back(contact);
    if (repl.size() > k_) repl.erase(repl.begin());
    return Update::kReplacement;
}

void RoutingTable::erase_entry(Bucket& b, std::size_t index) {
    b.entries.erase(b.entries.begin() + static_cast<std::ptrdiff_t>(index));
    --size_;
    if (!b.replacements.empty()) {
        // The most recently seen replacement takes the slot. It has not been heard from since it was
        // remembered, so it goes in as the least recently seen entry.
        b.entries.push_back(Entry{b.replacements.back(), Time{0}, 0});
        std::rotate(b.entries.begin(), b.entries.end() - 1, b.entries.end());
        b.replacements.pop_back();
        ++size_;
    }
}

bool RoutingTable::remove(const NodeId& id) {
    Bucket* b = bucket_of(id);
    if (b == nullptr) return false;
    for (std::size_t i = 0; i < b->entries.size(); ++i) {
        if (b->entries[i].contact.id == id) {
            erase_entry(*b, i);
            return true;
        }
    }
    const auto r =
        std::find_if(b->replacements.begin(), b->replacements.end(), [&](const Contact& c) { return c.id == id; });
    if (r == b->replacements.end()) return false;
    b->replacements.erase(r);
    return true;
}

bool RoutingTable::mark_failed(const NodeId& id) {
    Bucket* b = bucket_of(id);
    if (b == nullptr) return false;
    for (std::size_t i = 0; i < b->entries.size(); ++i) {
        Entry& e = b->entries[i];
        if (e.contact.id != id) continue;
        if (++e.failures < max_failures_) return false;
        erase_entry(*b, i);
        return true;
    }
    return remove(id);
}

std::vector<Contact> RoutingTable::closest(const Hash& target, std::size_t n) const {
    std::vector<Contact> all = contacts();
    if (all.size() > n) {
        std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                         [&](const Contact& a, const Contact& b) { return closer(target, a.id, b.id); });
        all.resize(n);
    }
    sort_by_distance(all, target);
    return all;
}

std::vector<Contact> RoutingTable::covering(const Hash& key) const {
    std::vector<Contact> out;
    for (const Bucket& b : buckets_) {
        for (const Entry& e : b.entries) {
            if (covers(e.contact.id, e.contact.radius, key)) out.push_back(e.contact);
        }
    }
    sort_by_distance(out, key);
    return out;
}

unsigned RoutingTable::covering_bits(unsigned bits, unsigned storing_bits) const {
    unsigned wanted = bits;
    for (unsigned d = bits + 1; d <= 256; ++d) {
        const auto& entries = buckets_[d - 1].entries;
        const bool stored = std::any_of(entries.begin(), entries.end(),
                                        [&](const Entry& e) { return e.contact.radius.bits >= storing_bits; });
        if (!stored) wanted = d;
    }
    return wanted;
}

std::optional<RoutingTable::Entry> RoutingTable::find(const NodeId& id) const {
    const unsigned d = log_distance(self_, id);
    if (d == 0) return std::nullopt;
    for (const Entry& e : buckets_[d - 1].entries) {
        if (e.contact.id == id) return e;
    }
    return std::nullopt;
}

std::vector<Contact> RoutingTable::contacts() const {
    std::vector<Contact> out;
    out.reserve(size_);
    for (const Bucket& b : buckets_) {
        for (const Entry& e : b.entries) out.push_back(e.contact);
    }
    CAROUSEL_ASSERT(out.size() == size_, "size_ counts the entries of every bucket");
    return out;
}

}  // namespace carousel::dht
