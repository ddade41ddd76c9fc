// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#pragma once

// NodeStore: where trie nodes live, by the Keccak-256 hash of their RLP. Only nodes of 32 bytes or
// more are stored on their own; shorter ones are embedded in their parent.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include <tl/expected.hpp>

#include <carousel/core/bytes.hpp>
#include <carousel/core/status.hpp>

namespace carousel::trie {

struct HashHasher {
    std::size_t operator()(const Hash& h) const noexcept {
        std::size_t v;
        std::memcpy(&v, h.data(), sizeof(v));  // a Keccak output is already uniform
        return v;
    }
};

// What a read of a node by hash gives: its RLP; nullopt when the store does not have the node; or
// the Status of a read that failed (an IO error of the KV under the store, a damaged record), which
// says nothing about whether the node is there. Absent and unreadable are different answers: a sync
// fetches an absent node again, but must stop on a failing disk.
using NodeRead = tl::expected<std::optional<Bytes>, Status>;
// As NodeRead, for the reads into a caller's buffer: true when found.
using NodeFound = tl::expected<bool, Status>;

class NodeStore {
  public:
    virtual ~NodeStore() = default;
    // The RLP of the node with this hash, nullopt if the store does not have it, or why the read
    // failed. The default is get_node's answer, for a store whose reads cannot fail (in memory); a
    // store whose reads can fail overrides this (and every store overrides one of the two).
    virtual NodeRead find_node(const Hash& hash) const { return get_node(hash); }
    // As find_node, for a caller that need not tell a failed read from an absent node (tests, stores
    // in memory): nullopt for both. The default is find_node's answer with an error as nullopt.
    virtual std::optional<Bytes> get_node(const Hash& hash) const {
        auto rlp = find_node(hash);
        if (!rlp) return std::nullopt;
        return std::move(*rlp);
    }
    // Stores `rlp` under `hash`: one more reference to the node. The caller guarantees
    // hash == keccak256(rlp).
    virtual void put_node(const Hash& hash, ByteView rlp) = 0;
    // put_node(hashes[i], rlps[i]) for every i, in order (`hashes.size() == rlps.size()`). A store
    // may overlap the lookups (Trie::root writes a level of the trie at once).
    virtual void put_nodes(std::span<const Hash> hashes, std::span<const ByteView> rlps) {
        for (std::size_t i = 0; i < hashes.size(); ++i) put_node(hashes[i], rlps[i]);
    }
    // As find_node, into `out` (whose buffer a caller can reuse from one node to the next): true if
    // found, false (leaving `out` unspecified) if the store does not have the node, or the error.
    virtual NodeFound read_node(const Hash& hash, Bytes& out) const {
        auto rlp = find_node(hash);
        if (!rlp) return tl::unexpected{std::move(rlp.error())};
        if (!*rlp) return false;
        out = std::move(**rlp);
        return true;
    }
    // As read_node, but `out` may view the store's own memory instead of a copy in `scratch` (the
    // default reads into `scratch`). `out` is valid until the store changes or `scratch` is reused.
    virtual NodeFound view_node(const Hash& hash, Bytes& scratch, ByteView& out) const {
        auto found = read_node(hash, scratch);
        if (found && *found) out = scratch;
        return found;
    }
    // A hint that get_node or read_node of `hash` follows soon: a store may start fetching it into
    // the CPU cache (Trie::prefetch overlaps the lookups of many paths). The default does nothing.
    virtual void prefetch_node(const Hash& hash) const noexcept { (void)hash; }
    // A second hint, given some time after prefetch_node(hash) so that what that one fetched (an
    // index entry, say) is in cache by now: a store may start fetching the node's RLP itself. The
    // default does nothing.
    virtual void prefetch_node_rlp(const Hash& hash) const noexcept { (void)hash; }
    // One reference fewer to a node put before (a trie replaced or deleted it). A store that prunes
    // may delete the node once nothing references it; the default keeps everything.
    virtual void release_node(const Hash& hash) { (void)hash; }
    // Makes every put so far durable, for a store that holds puts back (store::KvNodeStore writes
    // them in batches): a caller about to delete what it built the nodes from calls it first. The
    // default does nothing.
    virtual void flush() {}
    // Whether the reading members (get_node, read_node, view_node and the prefetch hints) may be
    // called from several threads at once while nothing writes to the store. Tries over a store that
    // says so update and hash on two threads (Trie::exchange_all, Trie::root(ForkJoin&)); the
    // default is false.
    virtual bool concurrent_reads() const noexcept { return false; }
};

// A store two threads may write at once: forwards every call to `inner` under a mutex. Lets tries be
// hashed on two threads into one store (Trie::root(ForkJoin&), the storage roots of a block in
// state::WorldState) while neither thread reads it otherwise.
class LockedNodeStore final : public NodeStore {
  public:
    explicit LockedNodeStore(NodeStore& inner) : inner_{inner} {}
    NodeRead find_node(const Hash& hash) const override {
        const std::lock_guard lock{mutex_};
        return inner_.find_node(hash);
    }
    void put_node(const Hash& hash, ByteView rlp) override {
        const std::lock_guard lock{mutex_};
        inner_.put_node(hash, rlp);
    }
    void put_nodes(std::span<const Hash> hashes, std::span<const ByteView> rlps) override {
        const std::lock_guard lock{mutex_};
        inner_.put_nodes(hashes, rlps);
    }
    void release_node(const Hash& hash) override {
        const std::lock_guard lock{mutex_};
        inner_.release_node(hash);
    }
    void flush() override {
        const std::lock_guard lock{mutex_};
        inner_.flush();
    }

  private:
    NodeStore& inner_;
    mutable std::mutex mutex_;
};

// A read-only view of a store: lets a Trie read (walk, prove) a store it must not write to. Writes
// are dropped; reading and proving write nothing new anyway.
class ReadOnlyNodeStore final : public NodeStore {
  public:
    explicit ReadOnlyNodeStore(const NodeStore& inner) : inner_{inner} {}
    NodeRead find_node(const Hash& hash) const override { return inner_.find_node(hash); }
    NodeFound read_node(const Hash& hash, Bytes& out) const override { return inner_.read_node(hash, out); }
    NodeFound view_node(const Hash& hash, Bytes& scratch, ByteView& out) const override {
        return inner_.view_node(hash, scratch, out);
    }
    void put_node(const Hash&, ByteView) override {}
    bool concurrent_reads() const noexcept override { return inner_.concurrent_reads(); }

  private:
    const NodeStore& inner_;
};

namespace detail {
// Memory for large arrays (MemoryNodeStore's index and node chunks). An allocation of 2 MiB or more
// is aligned to 2 MiB and, on Linux, advised to use transparent huge pages before it is first
// touched: where the kernel gives them only on request (its "madvise" mode, Debian's default), a
// lookup in an index of hundreds of MiB otherwise misses the TLB as well as the cache. Freed with
// std::free.
void* allocate_large(std::size_t bytes);

template <class T>
struct LargeAllocator {
    using value_type = T;
    LargeAllocator() noexcept = default;
    template <class U>
    explicit LargeAllocator(const LargeAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(allocate_large(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { std::free(p); }
    friend bool operator==(const LargeAllocator&, const LargeAllocator&) noexcept { return true; }
};

struct FreeDeleter {
    void operator()(uint8_t* p) const noexcept { std::free(p); }
};
}  // namespace detail

// Nodes in memory; for tests, proofs, the chain generator and small tries. Keeps every node (no
// pruning). The RLP is packed into large chunks and indexed by an open-addressing hash table, so a
// node costs no allocation of its own and a lookup about two cache misses (a state of millions of
// nodes does not fit in any cache).
class MemoryNodeStore final : public NodeStore {
  public:
    MemoryNodeStore() = default;
    MemoryNodeStore(const MemoryNodeStore& other);  // copies every node
    MemoryNodeStore& operator=(const MemoryNodeStore& other);
    MemoryNodeStore(MemoryNodeStore&&) noexcept = default;
    MemoryNodeStore& operator=(MemoryNodeStore&&) noexcept = default;
    ~MemoryNodeStore() override = default;

    std::optional<Bytes> get_node(const Hash& hash) const override;
    NodeFound read_node(const Hash& hash, Bytes& out) const override;
    // `out` views the chunk that holds the node: no copy (chunks never move).
    NodeFound view_node(const Hash& hash, Bytes& scratch, ByteView& out) const override;
    void prefetch_node(const Hash& hash) const noexcept override;
    void prefetch_node_rlp(const Hash& hash) const noexcept override;
    void put_node(const Hash& hash, ByteView rlp) override;
    void put_nodes(std::span<const Hash> hashes, std::span<const ByteView> rlps) override;
    bool concurrent_reads() const noexcept override { return true; }
    std::size_t size() const noexcept { return size_; }
    // Makes room in the index for `nodes` nodes in all, so that it does not grow before.
    void reserve(std::size_t nodes);

  private:
    struct Slot {
        Hash hash{};
        uint32_t chunk{0};
        uint32_t offset{0};
        uint32_t size{0};  // 0: an empty slot (no node has an empty RLP)
    };
    const Slot* find(const Hash& hash) const noexcept;
    ByteView rlp(const Slot& s) const noexcept { return {chunks_[s.chunk].get() + s.offset, s.size}; }
    void rehash(std::size_t slot_count);

    std::vector<Slot, detail::LargeAllocator<Slot>> slots_;  // a power of two of them, linear probing, <= 70% used
    std::size_t size_{0};
    std::vector<std::unique_ptr<uint8_t, detail::FreeDeleter>> chunks_;
    std::size_t chunk_used_{0};      // bytes used of the last chunk
    std::size_t chunk_capacity_{0};  // and its size
};

}  // namespace carousel::trie
