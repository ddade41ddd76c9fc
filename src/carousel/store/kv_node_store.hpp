// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// A syncing client's stores on a KV: trie nodes by hash (kTrieNodes, the RLP as it is) and code by
// hash (kCode). Every put is one write of its own, so what a sync verified survives a kill -9 of the
// process (RocksDB's write-ahead log; an OS crash may lose the last writes, never corrupt earlier
// ones). No reference counts: a sync only adds. (StateStore, which serves and prunes, keeps counts
// and a different layout; a client database is not a StateStore database.)
//
// Write errors cannot travel through NodeStore::put_node; the first one is kept in status() and
// later puts are dropped, so a sync that sees it stops and reports it.

#include <carousel/state/code_store.hpp>
#include <carousel/trie/node_store.hpp>

#include "kv.hpp"

namespace carousel::store {

class KvNodeStore final : public trie::NodeStore {
  public:
    explicit KvNodeStore(KV& kv) : kv_{kv} {}
    std::optional<Bytes> get_node(const Hash& hash) const override;
    void put_node(const Hash& hash, ByteView rlp) override;
    [[nodiscard]] const Status& status() const noexcept { return status_; }

  private:
    KV& kv_;
    Status status_;
};

class KvCodeStore final : public state::CodeStore {
  public:
    explicit KvCodeStore(KV& kv) : kv_{kv} {}
    std::optional<Bytes> get_code(const Hash& code_hash) const override;
    void put_code(const Hash& code_hash, ByteView code) override;
    [[nodiscard]] const Status& status() const noexcept { return status_; }

  private:
    KV& kv_;
    Status status_;
};

}  // namespace carousel::store
