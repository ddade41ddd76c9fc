// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// SyncLeaves: where MgrSync keeps the leaves it has verified, in key order: in memory
// (MemorySyncLeaves, what the simulator's clients use) or in a store::KV (KvSyncLeaves: a
// mainnet-sized state on RocksDB need not fit in memory). MgrSync decides what is held (verified
// ranges come in, ranges it fetches again or drops go out); this only holds it, and offers what
// MgrSync asks of it, not a general map: one leaf by key, a key range (visit in order, count, erase,
// replace), and the owners whose storage is held.
//
// Key spaces: a leaf belongs to the account trie (owner nullopt) or to the storage trie of one
// owner (an account's key); the same key in two spaces is two leaves. An owner is held while it has
// a leaf: erasing its last one forgets it. A range [first, last] holds both keys; first > last is
// empty.
//
// Reads and writes cannot return an error into the walk that makes them, so a failed one is kept in
// status() (the first one): a failed read finds nothing (or stops its visit), a failed write changes
// nothing (each write is one batch, all or nothing). The owner must check status() and stop on an
// error. Not thread-safe.

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include <carousel/core/bytes.hpp>
#include <carousel/core/status.hpp>
#include <carousel/store/kv.hpp>

namespace carousel::mgr {

// Whose leaves: the account trie's (nullopt) or the storage trie of the account with this key.
using LeafOwner = std::optional<Hash>;

class SyncLeaves {
  public:
    // Receives one leaf; `value` is valid during the call only.
    using Visitor = std::function<void(const Hash& key, ByteView value)>;

    virtual ~SyncLeaves() = default;

    // The value of `owner`'s leaf `key`; nullopt when not held.
    virtual std::optional<Bytes> find(const LeafOwner& owner, const Hash& key) const = 0;
    // Calls `visit` with each of `owner`'s leaves in [first, last], in key order. `visit` must not
    // change this.
    virtual void visit(const LeafOwner& owner, const Hash& first, const Hash& last, const Visitor& visit) const = 0;
    // How many of `owner`'s leaves lie in [first, last].
    virtual std::size_t count(const LeafOwner& owner, const Hash& first, const Hash& last) const = 0;
    // The owners with storage leaves held, in key order.
    virtual std::vector<Hash> owners() const = 0;

    // Holds `value` as `owner`'s leaf `key`, in place of the one held.
    virtual void put(const LeafOwner& owner, const Hash& key, ByteView value) = 0;
    // Drops `owner`'s leaf `key`, if held.
    virtual void erase(const LeafOwner& owner, const Hash& key) = 0;
    // Drops `owner`'s leaves in [first, last].
    virtual void erase_range(const LeafOwner& owner, const Hash& first, const Hash& last) = 0;
    // Makes `leaves` (whose keys lie in [first, last]) `owner`'s leaves in [first, last], in one
    // step: a range rolled to a newer root.
    virtual void replace_range(const LeafOwner& owner, const Hash& first, const Hash& last,
                               const std::map<Hash, Bytes>& leaves) = 0;

    // The first failed read or write, or ok.
    virtual const Status& status() const noexcept = 0;

    // The same over `owner`'s whole key space.
    void visit_all(const LeafOwner& owner, const Visitor& visitor) const { visit(owner, kFirst, kLast, visitor); }
    std::size_t count_all(const LeafOwner& owner) const { return count(owner, kFirst, kLast); }
    void erase_all(const LeafOwner& owner) { erase_range(owner, kFirst, kLast); }

  private:
    static constexpr Hash kFirst{};
    static constexpr Hash kLast = [] {
        Hash h{};
        h.fill(0xff);
        return h;
    }();
};

class MemorySyncLeaves final : public SyncLeaves {
  public:
    std::optional<Bytes> find(const LeafOwner& owner, const Hash& key) const override;
    void visit(const LeafOwner& owner, const Hash& first, const Hash& last, const Visitor& visit) const override;
    std::size_t count(const LeafOwner& owner, const Hash& first, const Hash& last) const override;
    std::vector<Hash> owners() const override;
    void put(const LeafOwner& owner, const Hash& key, ByteView value) override;
    void erase(const LeafOwner& owner, const Hash& key) override;
    void erase_range(const LeafOwner& owner, const Hash& first, const Hash& last) override;
    void replace_range(const LeafOwner& owner, const Hash& first, const Hash& last,
                       const std::map<Hash, Bytes>& leaves) override;
    const Status& status() const noexcept override { return status_; }

  private:
    using Leaves = std::map<Hash, Bytes>;
    // `owner`'s leaves; null when it holds none.
    const Leaves* space(const LeafOwner& owner) const;
    // Forgets `owner` if it holds no leaf now.
    void drop_if_empty(const LeafOwner& owner);

    Leaves accounts_;
    std::map<Hash, Leaves> storage_;
    Status status_;  // always ok
};

// The leaves in `kv` (which outlives this), in the columns and layout of store/kv.hpp's flat leaf
// index: account leaves in Column::kAccountLeaves by key (32 bytes), storage leaves in
// Column::kStorageLeaves by owner ++ key (64 bytes), so an owner's leaves are one key prefix and
// iterate in key order. Both columns are this holder's own: it starts empty, deleting what they
// hold (MgrSync keeps its progress in memory, so leaves an earlier run left are not its own).
class KvSyncLeaves final : public SyncLeaves {
  public:
    explicit KvSyncLeaves(store::KV& kv);
    std::optional<Bytes> find(const LeafOwner& owner, const Hash& key) const override;
    void visit(const LeafOwner& owner, const Hash& first, const Hash& last, const Visitor& visit) const override;
    std::size_t count(const LeafOwner& owner, const Hash& first, const Hash& last) const override;
    std::vector<Hash> owners() const override;
    void put(const LeafOwner& owner, const Hash& key, ByteView value) override;
    void erase(const LeafOwner& owner, const Hash& key) override;
    void erase_range(const LeafOwner& owner, const Hash& first, const Hash& last) override;
    void replace_range(const LeafOwner& owner, const Hash& first, const Hash& last,
                       const std::map<Hash, Bytes>& leaves) override;
    const Status& status() const noexcept override { return status_; }

  private:
    static store::Column column(const LeafOwner& owner) noexcept;
    // The KV key of `owner`'s leaf `key`.
    static Bytes kv_key(const LeafOwner& owner, const Hash& key);
    // An iterator over `owner`'s leaves in [first, last] (first <= last).
    std::unique_ptr<store::Iterator> range(const LeafOwner& owner, const Hash& first, const Hash& last) const;
    // Adds to `batch` the deletion of `owner`'s leaves in [first, last] (first <= last).
    static void erase_into(store::WriteBatch& batch, const LeafOwner& owner, const Hash& first, const Hash& last);
    // Keeps `s` if it is the first error.
    void keep(const Status& s) const;
    void write(const store::WriteBatch& batch);

    store::KV& kv_;
    mutable Status status_;
};

}  // namespace carousel::mgr
