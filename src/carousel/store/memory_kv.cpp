// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "memory_kv.hpp"

#include <atomic>
#include <mutex>
#include <utility>

namespace carousel::store {

namespace {

std::size_t index(Column column) noexcept { return static_cast<std::size_t>(column); }

// Walks one immutable map (a snapshot shared with the KV until the KV's next write copies it).
class MemoryIterator final : public Iterator {
  public:
    MemoryIterator(std::shared_ptr<const MemoryKV::Map> map, KeyRange range) noexcept
        : map_{std::move(map)}, range_{std::move(range)}, it_{map_->end()} {}

    [[nodiscard]] bool valid() const noexcept override { return valid_; }

    void seek_to_first() noexcept override { settle(map_->lower_bound(range_.lower)); }

    void seek_to_last() noexcept override {
        settle_back(range_.upper ? map_->lower_bound(*range_.upper) : map_->end());
    }

    void seek(ByteView target) noexcept override {
        if (target < range_.lower) return seek_to_first();
        settle(map_->lower_bound(target));
    }

    void seek_for_prev(ByteView target) noexcept override {
        if (range_.upper && target >= *range_.upper) return seek_to_last();
        settle_back(map_->upper_bound(target));
    }

    void next() noexcept override { settle(std::next(it_)); }
    void prev() noexcept override { settle_back(it_); }

    [[nodiscard]] ByteView key() const noexcept override { return it_->first; }
    [[nodiscard]] ByteView value() const noexcept override { return it_->second; }
    [[nodiscard]] Status status() const noexcept override { return {}; }

  private:
    // Positions at `it` (a forward move's result).
    void settle(MemoryKV::Map::const_iterator it) noexcept {
        it_ = it;
        valid_ = it_ != map_->end() && range_.contains(it_->first);
    }
    // Positions at the entry before `it` (a backward move's result).
    void settle_back(MemoryKV::Map::const_iterator it) noexcept {
        if (it == map_->begin()) {
            it_ = map_->end();
            valid_ = false;
            return;
        }
        settle(std::prev(it));
    }

    std::shared_ptr<const MemoryKV::Map> map_;
    KeyRange range_;
    MemoryKV::Map::const_iterator it_;
    bool valid_{false};
};

}  // namespace

class MemoryKV::Applier final : public WriteBatch::Handler {
  public:
    explicit Applier(MemoryKV& kv) : kv_{kv} {}

    void put(Column column, ByteView key, ByteView value) override {
        Map& map = kv_.writable(column);
        auto it = map.lower_bound(key);
        if (it != map.end() && it->first == key) {
            it->second.assign(value);
        } else {
            map.emplace_hint(it, key, value);
        }
    }
    void del(Column column, ByteView key) override {
        Map& map = kv_.writable(column);
        if (auto it = map.find(key); it != map.end()) map.erase(it);
    }
    void del_range(Column column, ByteView begin, ByteView end) override {
        if (begin >= end) return;
        Map& map = kv_.writable(column);
        map.erase(map.lower_bound(begin), map.lower_bound(end));
    }

  private:
    MemoryKV& kv_;
};

MemoryKV::MemoryKV() {
    for (auto& column : columns_) column = std::make_shared<Map>();
}

MemoryKV::Map& MemoryKV::writable(Column column) {
    std::shared_ptr<Map>& map = columns_[index(column)];
    if (map.use_count() != 1) {
        map = std::make_shared<Map>(*map);
    } else {
        // The last iterator that shared the map released it with a release decrement: make its
        // reads of the map happen before our writes (use_count() is a relaxed load).
        std::atomic_thread_fence(std::memory_order_acquire);
    }
    return *map;
}

Status MemoryKV::get(Column column, ByteView key, Bytes& value) const noexcept {
    std::shared_lock lock{mutex_};
    const Map& map = *columns_[index(column)];
    auto it = map.find(key);
    if (it == map.end()) return Status::not_found();
    value = it->second;
    return {};
}

Status MemoryKV::write(const WriteBatch& batch, WriteOptions /*options*/) noexcept {
    std::unique_lock lock{mutex_};
    Applier applier{*this};
    batch.iterate(applier);
    return {};
}

std::unique_ptr<Iterator> MemoryKV::new_iterator(Column column, KeyRange range) const noexcept {
    std::shared_ptr<const Map> snapshot;
    {
        std::shared_lock lock{mutex_};
        snapshot = columns_[index(column)];
    }
    return std::make_unique<MemoryIterator>(std::move(snapshot), std::move(range));
}

std::size_t MemoryKV::entry_count(Column column) const noexcept {
    std::shared_lock lock{mutex_};
    return columns_[index(column)]->size();
}

}  // namespace carousel::store
