// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// The Kademlia routing table (Maymounkov and Mazières 2002, section 2.2): one bucket of at most k
// contacts per log distance from the own id (1..256), plus, per bucket, up to k replacements.
//
// Contract:
//  - update() inserts a contact or refreshes it (moves it to the bucket's most-recently-seen end,
//    takes its new peer and radius, clears its failures). A contact for a full bucket is not let in:
//    Kademlia prefers old live nodes, so the newcomer is remembered as a replacement (most recent
//    last, the oldest dropped beyond k) and takes a slot when one frees up.
//  - mark_failed() counts a failure (a request that timed out); at `max_failures` consecutive
//    failures the contact leaves the table. remove() drops it at once (a peer that disconnected or
//    misbehaved). Either way the most recently seen replacement takes the free slot.
//  - The own id is never stored.
//  - Pure data structure: no clock (times are given), no IO, deterministic.

#include <array>
#include <cstddef>
#include <optional>
#include <vector>

#include <carousel/proto/endpoint.hpp>

#include "contact.hpp"
#include "node_id.hpp"

namespace carousel::dht {

using proto::Time;

class RoutingTable {
  public:
    // One table entry: the contact, when it was last heard from, and its consecutive failures.
    struct Entry {
        Contact contact;
        Time last_seen{0};
        unsigned failures{0};
    };

    enum class Update : uint8_t {
        kIgnored,      // the own id
        kAdded,        // now in its bucket
        kRefreshed,    // was in its bucket; refreshed
        kReplacement,  // its bucket is full: kept (or refreshed) as a replacement
    };

    // `k` (>= 1) contacts per bucket; a contact leaves after `max_failures` (>= 1) failures in a row.
    explicit RoutingTable(NodeId self, std::size_t k = 16, unsigned max_failures = 3);

    [[nodiscard]] const NodeId& self() const noexcept { return self_; }
    [[nodiscard]] std::size_t k() const noexcept { return k_; }

    // Inserts or refreshes `contact`, heard from at `now` (see the contract above).
    Update update(const Contact& contact, Time now);

    // Drops `id` from its bucket (a replacement takes its slot) or from the replacements. True if it
    // was in the table (bucket or replacements).
    bool remove(const NodeId& id);

    // Counts a failure of `id`; true if that made it leave the table. A replacement that fails is
    // dropped at once. Unknown ids are ignored (false).
    bool mark_failed(const NodeId& id);

    // Up to `n` contacts closest to `target` under XOR distance, closest first (replacements are not
    // included).
    [[nodiscard]] std::vector<Contact> closest(const Hash& target, std::size_t n) const;

    // The contacts whose block (id and radius) covers `key`, closest to `key` first.
    [[nodiscard]] std::vector<Contact> covering(const Hash& key) const;

    // The radius a node with this table must take so that no block of keys beside its own is left
    // without a node: the highest log distance d above `bits` whose bucket is empty, else `bits`.
    // Kademlia stores a key at the nodes closest to it, whatever the distance; with aligned blocks,
    // the nodes closest to a key in an empty sibling subtree (bucket d empty) are exactly the nodes of
    // the other half of region_of(self, d), self among them. Growing to d covers that subtree (and,
    // when a bucket between is not empty, a populated block more: over-storage, never a gap). Exact
    // when every non-empty subtree near the own id has a contact in the table, as after a lookup of
    // the own id (Kademlia's join) or in a connected network. Only contacts that announce a radius of
    // at least `storing_bits` count as nodes (storage nodes; clients and gossip origins announce less
    // and store nothing).
    [[nodiscard]] unsigned covering_bits(unsigned bits, unsigned storing_bits = 0) const;

    // The entry of `id` in a bucket (not a replacement), if any.
    [[nodiscard]] std::optional<Entry> find(const NodeId& id) const;

    // Contacts in buckets (replacements not counted).
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

    // Every contact in a bucket, bucket by bucket from log distance 1 to 256, least recently seen
    // first within a bucket.
    [[nodiscard]] std::vector<Contact> contacts() const;

    // The bucket and the replacements of log distance `d` (1..256), least recently seen first.
    [[nodiscard]] const std::vector<Entry>& bucket(unsigned d) const { return buckets_.at(d - 1).entries; }
    [[nodiscard]] const std::vector<Contact>& replacements(unsigned d) const { return buckets_.at(d - 1).replacements; }

  private:
    struct Bucket {
        std::vector<Entry> entries;         // least recently seen first
        std::vector<Contact> replacements;  // least recently seen first
    };

    Bucket* bucket_of(const NodeId& id);
    void erase_entry(Bucket& b, std::size_t index);

    NodeId self_;
    std::size_t k_;
    unsigned max_failures_;
    std::array<Bucket, 256> buckets_;  // log distance d at index d - 1
    std::size_t size_{0};
};

}  // namespace carousel::dht
