// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "path_layout.hpp"

#include <unordered_set>
#include <vector>

#include <carousel/core/hex.hpp>
#include <carousel/state/account.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/node_walker.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::store {
namespace {

constexpr std::string_view kRecordKey{"path_layout"};

ByteView record_key() noexcept {
    return {reinterpret_cast<const uint8_t*>(kRecordKey.data()), kRecordKey.size()};  // NOLINT: bytes
}

// Writes one trie's nodes in pre-order (NodeWalker), collecting the storage roots met in account
// leaves.
class Builder {
  public:
    Builder(KV& kv, const trie::NodeStore& nodes, std::size_t batch_bytes)
        : kv_{kv}, nodes_{nodes}, batch_bytes_{batch_bytes} {}

    Status trie(const Hash& root, bool accounts) {
        trie::NodeWalker walk{nodes_, nullptr, view(root)};
        while (status_.ok() && walk.next()) {
            if (trie::is_hash_reference(walk.ref())) {
                key_.assign(view(root));  // root ++ position
                key_ += walk.path();
                batch_.put(Column::kPathNodes, key_, walk.rlp());
                if (batch_.byte_size() >= batch_bytes_) {
                    status_ = kv_.write(batch_);
                    batch_.clear();
                }
            }
            if (accounts) note_account(walk);
        }
        if (status_.ok() && walk.error() == trie::NodeWalker::Error::kStoreError) {
            status_ = walk.store_status();
        } else if (status_.ok() && walk.error() == trie::NodeWalker::Error::kMissingNode) {
            status_ = Status::corruption("path layout of " + to_hex_prefixed(view(root)) + ": node " +
                                         to_hex_prefixed(walk.ref()) + " missing");
        } else if (status_.ok() && walk.error() == trie::NodeWalker::Error::kBadNode) {
            status_ = Status::corruption("path layout of " + to_hex_prefixed(view(root)) + ": a node does not decode");
        }
        return status_;
    }

    Status finish() {
        if (status_.ok() && !batch_.empty()) status_ = kv_.write(batch_);
        batch_.clear();
        return status_;
    }

    std::vector<Hash> storage_roots;

  private:
    // At an account leaf, collects its storage root (once per root).
    void note_account(trie::NodeWalker& walk) {
        const trie::Node* node = walk.node();
        if (node == nullptr || node->kind != trie::NodeKind::kLeaf) return;  // (a bad node ends the walk)
        ByteView value = node->value;
        auto account = state::decode_account(value);
        if (!account) {
            status_ = Status::corruption("path layout: an account leaf does not decode");
            return;
        }
        if (account->storage_root != trie::kEmptyRoot && seen_.insert(account->storage_root).second) {
            storage_roots.push_back(account->storage_root);
        }
    }

    KV& kv_;
    const trie::NodeStore& nodes_;
    std::size_t batch_bytes_;
    Status status_;
    WriteBatch batch_;
    Bytes key_;
    std::unordered_set<Hash, trie::HashHasher> seen_;
};

class LayoutCursor final : public trie::PathCursor {
  public:
    LayoutCursor(std::unique_ptr<Iterator> it, const Hash& root) : it_{std::move(it)}, key_{view(root)} {}

    bool node_at(ByteView pos, ByteView& rlp) override {
        key_.resize(32);
        key_ += pos;
        if (consumed_ && it_->valid()) it_->next();
        consumed_ = false;
        // A pre-order walk asks for the next key; anything else (a skipped sub-trie) is a seek.
        if (!it_->valid() || it_->key() != ByteView{key_}) {
            if (!it_->status().ok()) return false;
            it_->seek(key_);
            if (!it_->valid() || it_->key() != ByteView{key_}) return false;
        }
        rlp = it_->value();
        consumed_ = true;
        return true;
    }

    bool next(ByteView& pos, ByteView& rlp) override {
        if (consumed_ && it_->valid()) it_->next();
        consumed_ = true;
        if (!it_->valid()) return false;
        pos = it_->key().substr(32);
        rlp = it_->value();
        return true;
    }

    [[nodiscard]] bool ok() const noexcept override { return it_->status().ok(); }

  private:
    std::unique_ptr<Iterator> it_;
    Bytes key_;
    bool consumed_{false};  // the iterator is on the node returned last
};

}  // namespace

Status PathLayout::build(KV& kv, const trie::NodeStore& nodes, const Hash& state_root, std::size_t batch_bytes) {
    {
        // Record first, so that no reader trusts a layout being rebuilt.
        WriteBatch clear;
        clear.del(Column::kMeta, record_key());
        auto it = kv.new_iterator(Column::kPathNodes);
        it->seek_to_first();
        if (it->valid()) clear.del_range(Column::kPathNodes, ByteView{}, Bytes(33, 0xff));  // keys start with a root
        it.reset();
        if (Status s = kv.write(clear); !s.ok()) return s;
    }
    Builder b{kv, nodes, batch_bytes};
    if (state_root != trie::kEmptyRoot) {
        if (Status s = b.trie(state_root, true); !s.ok()) return s;
        for (std::size_t i = 0; i < b.storage_roots.size(); ++i) {
            if (Status s = b.trie(b.storage_roots[i], false); !s.ok()) return s;
        }
    }
    if (Status s = b.finish(); !s.ok()) return s;
    return kv.put(Column::kMeta, record_key(), view(state_root));
}

PathLayout::PathLayout(const KV& kv) : kv_{kv} {
    Bytes v;
    if (kv_.get(Column::kMeta, record_key(), v).ok() && v.size() == 32) root_ = to_hash(v);
}

std::unique_ptr<trie::PathCursor> PathLayout::open(const Hash& root, ByteView upper) const {
    if (!root_) return nullptr;
    KeyRange range;
    range.lower.assign(view(root));
    Bytes end{view(root)};
    end += upper;
    end.push_back(0x10);  // past every nibble: every position that extends `upper`
    range.upper = std::move(end);
    auto it = kv_.new_iterator(Column::kPathNodes, std::move(range));
    it->seek_to_first();
    // The trie is held iff its root node is (build() writes whole tries, and the record last).
    if (!it->valid() || it->key() != view(root)) return nullptr;
    return std::make_unique<LayoutCursor>(std::move(it), root);
}

}  // namespace carousel::store
