// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "kv.hpp"

#include <utility>

#include <carousel/core/assert.hpp>

namespace carousel::store {

namespace {

enum class OpKind : uint8_t { kPut = 1, kDel = 2, kDelRange = 3 };

void put_varint(Bytes& to, std::size_t n) {
    while (n >= 0x80) {
        to.push_back(static_cast<uint8_t>(n | 0x80));
        n >>= 7;
    }
    to.push_back(static_cast<uint8_t>(n));
}

// The batch's own encoding, so a malformed one is a bug: assert, do not report.
std::size_t get_varint(ByteView& from) noexcept {
    std::size_t n = 0;
    for (unsigned shift = 0;; shift += 7) {
        CAROUSEL_ASSERT(!from.empty() && shift < 64, "a batch's own varint is well formed");
        const uint8_t b = from.front();
        from.remove_prefix(1);
        n |= static_cast<std::size_t>(b & 0x7f) << shift;
        if (b < 0x80) return n;
    }
}

void put_slice(Bytes& to, ByteView s) {
    put_varint(to, s.size());
    to.append(s);
}

ByteView get_slice(ByteView& from) noexcept {
    const std::size_t n = get_varint(from);
    CAROUSEL_ASSERT(n <= from.size(), "a batch's own slice fits in it");
    const ByteView s = from.substr(0, n);
    from.remove_prefix(n);
    return s;
}

}  // namespace

std::string_view to_string(Column column) noexcept {
    switch (column) {
        case Column::kMeta:
            return "meta";
        case Column::kTrieNodes:
            return "trie_nodes";
        case Column::kAccountLeaves:
            return "account_leaves";
        case Column::kStorageLeaves:
            return "storage_leaves";
        case Column::kCode:
            return "code";
        case Column::kBlocks:
            return "blocks";
        case Column::kPathNodes:
            return "path_nodes";
    }
    return "unknown";
}

std::optional<Bytes> prefix_successor(ByteView prefix) {
    Bytes s{prefix};
    while (!s.empty() && s.back() == 0xff) s.pop_back();
    if (s.empty()) return std::nullopt;
    ++s.back();
    return s;
}

void WriteBatch::put(Column column, ByteView key, ByteView value) {
    rep_.push_back(static_cast<uint8_t>(OpKind::kPut));
    rep_.push_back(static_cast<uint8_t>(column));
    put_slice(rep_, key);
    put_slice(rep_, value);
    ++count_;
}

void WriteBatch::del(Column column, ByteView key) {
    rep_.push_back(static_cast<uint8_t>(OpKind::kDel));
    rep_.push_back(static_cast<uint8_t>(column));
    put_slice(rep_, key);
    ++count_;
}

void WriteBatch::del_range(Column column, ByteView begin, ByteView end) {
    rep_.push_back(static_cast<uint8_t>(OpKind::kDelRange));
    rep_.push_back(static_cast<uint8_t>(column));
    put_slice(rep_, begin);
    put_slice(rep_, end);
    ++count_;
}

void WriteBatch::append(const WriteBatch& other) {
    rep_ += other.rep_;
    count_ += other.count_;
}

void WriteBatch::clear() noexcept {
    rep_.clear();
    count_ = 0;
}

void WriteBatch::iterate(Handler& handler) const {
    ByteView in{rep_};
    while (!in.empty()) {
        CAROUSEL_ASSERT(in.size() >= 2, "a batch operation starts with its kind and column");
        const auto kind = static_cast<OpKind>(in[0]);
        const auto column = static_cast<Column>(in[1]);
        in.remove_prefix(2);
        const ByteView key = get_slice(in);
        switch (kind) {
            case OpKind::kPut:
                handler.put(column, key, get_slice(in));
                break;
            case OpKind::kDel:
                handler.del(column, key);
                break;
            case OpKind::kDelRange:
                handler.del_range(column, key, get_slice(in));
                break;
        }
    }
}

namespace {

class EmptyIterator final : public Iterator {
  public:
    explicit EmptyIterator(Status status) noexcept : status_{std::move(status)} {}
    [[nodiscard]] bool valid() const noexcept override { return false; }
    void seek_to_first() noexcept override {}
    void seek_to_last() noexcept override {}
    void seek(ByteView) noexcept override {}
    void seek_for_prev(ByteView) noexcept override {}
    void next() noexcept override {}
    void prev() noexcept override {}
    [[nodiscard]] ByteView key() const noexcept override { return {}; }
    [[nodiscard]] ByteView value() const noexcept override { return {}; }
    [[nodiscard]] Status status() const noexcept override { return status_; }

  private:
    Status status_;
};

}  // namespace

std::unique_ptr<Iterator> new_empty_iterator(Status status) {
    return std::make_unique<EmptyIterator>(std::move(status));
}

Status check_sorted_puts(std::span<const ByteView> keys, std::span<const ByteView> values) {
    if (keys.size() != values.size()) return Status::invalid_argument("put_sorted: keys and values differ in number");
    for (std::size_t i = 1; i < keys.size(); ++i) {
        if (!(keys[i - 1] < keys[i])) return Status::invalid_argument("put_sorted: keys not strictly increasing");
    }
    return {};
}

Status KV::put_sorted(Column column, std::span<const ByteView> keys, std::span<const ByteView> values) noexcept {
    if (Status s = check_sorted_puts(keys, values); !s.ok()) return s;
    WriteBatch batch;
    for (std::size_t i = 0; i < keys.size(); ++i) batch.put(column, keys[i], values[i]);
    return write(batch);
}

Status KV::put(Column column, ByteView key, ByteView value, WriteOptions options) noexcept {
    WriteBatch batch;
    batch.put(column, key, value);
    return write(batch, options);
}

Status KV::del(Column column, ByteView key, WriteOptions options) noexcept {
    WriteBatch batch;
    batch.del(column, key);
    return write(batch, options);
}

}  // namespace carousel::store
