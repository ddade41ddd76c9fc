// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "state_store.hpp"

#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <carousel/core/hex.hpp>
#include <carousel/core/keccak.hpp>
#include <carousel/state/world_state.hpp>
#include <carousel/trie/hash_builder.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::store {

namespace {

// ---- keys and records ----------------------------------------------------------------------------

constexpr uint8_t kStateVersion = 1;
constexpr std::string_view kStateKey = "state";
constexpr std::string_view kImportKey = "import";
constexpr uint8_t kJournalTag = 'j';

// The columns the store owns (kMeta is shared: only its two keys are ours).
constexpr std::array<Column, 5> kOwnColumns{Column::kTrieNodes, Column::kAccountLeaves, Column::kStorageLeaves,
                                            Column::kCode, Column::kBlocks};

void put_be(Bytes& to, uint64_t v, std::size_t n) {
    for (std::size_t k = n; k-- > 0;) to.push_back(static_cast<uint8_t>(v >> (8 * k)));
}
uint64_t get_be(ByteView& from, std::size_t n) noexcept {
    uint64_t v = 0;
    for (std::size_t k = 0; k < n; ++k) v = (v << 8) | from[k];
    from.remove_prefix(n);
    return v;
}

Bytes block_key(uint64_t block) {
    Bytes k;
    put_be(k, block, 8);
    return k;
}
Bytes journal_key(uint64_t block) {
    Bytes k = block_key(block);
    k.push_back(kJournalTag);
    return k;
}
Bytes slot_leaf_key(const Hash& account_key, const Hash& slot_key) {
    Bytes k;
    k.reserve(64);
    k.append(view(account_key));
    k.append(view(slot_key));
    return k;
}

std::string hex(const Hash& h) { return to_hex_prefixed(view(h)); }

// Trie-node values: LEB128 count, then the node's RLP.
Bytes encode_node_value(uint64_t count, ByteView rlp) {
    Bytes v;
    v.reserve(rlp.size() + 2);
    while (count >= 0x80) {
        v.push_back(static_cast<uint8_t>(count | 0x80));
        count >>= 7;
    }
    v.push_back(static_cast<uint8_t>(count));
    v.append(rlp);
    return v;
}

struct NodeValue {
    uint64_t count{0};
    ByteView rlp;
};

// Strict: a minimal varint count >= 1 of at most 64 bits, then a non-empty RLP list.
std::optional<NodeValue> decode_node_value(ByteView v) noexcept {
    NodeValue out;
    for (unsigned shift = 0;; shift += 7) {
        if (v.empty() || shift > 63) return std::nullopt;
        const uint8_t b = v.front();
        v.remove_prefix(1);
        if (shift == 63 && b > 1) return std::nullopt;
        out.count |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (b < 0x80) {
            if (b == 0 && shift > 0) return std::nullopt;  // overlong
            break;
        }
    }
    if (out.count == 0 || v.empty() || v.front() < 0xc0) return std::nullopt;
    out.rlp = v;
    return out;
}

Status malformed_node(const Hash& h) {
    return Status::corruption("trie node " + hex(h) +
                              " in column trie_nodes is malformed (want a count and an RLP list)");
}

// The "state" record: [u8 version][u8 has_head][be64 head block][32 head root][be64 accounts]
// [be64 slots][be32 n][n x (be64 block, 32 root)], the window oldest first, consecutive blocks
// ending at the head.
constexpr std::size_t kStateFixed = 1 + 1 + 8 + 32 + 8 + 8 + 4;

Bytes encode_state(const StateStore::Head& head, const std::deque<StateStore::BlockRoot>& window) {
    Bytes v;
    v.reserve(kStateFixed + window.size() * 40);
    v.push_back(kStateVersion);
    v.push_back(head.block ? 1 : 0);
    put_be(v, head.block.value_or(0), 8);
    v.append(view(head.root));
    put_be(v, head.accounts, 8);
    put_be(v, head.slots, 8);
    put_be(v, window.size(), 4);
    for (const auto& br : window) {
        put_be(v, br.block, 8);
        v.append(view(br.root));
    }
    return v;
}

Status decode_state(ByteView v, StateStore::Head& head, std::deque<StateStore::BlockRoot>& window) {
    auto bad = [](const std::string& why) {
        return Status::corruption("the meta record \"state\" is malformed: " + why);
    };
    if (v.empty()) return bad("empty");
    if (v[0] != kStateVersion) {
        return Status::not_supported("the meta record \"state\" has format version " + std::to_string(v[0]) +
                                     "; this build reads version " + std::to_string(kStateVersion));
    }
    if (v.size() < kStateFixed) return bad(std::to_string(v.size()) + " bytes, fewer than the fixed part");
    v.remove_prefix(1);
    const uint8_t has_head = v[0];
    v.remove_prefix(1);
    if (has_head > 1) return bad("head flag " + std::to_string(has_head));
    const uint64_t block = get_be(v, 8);
    head.root = to_hash(v.substr(0, 32));
    v.remove_prefix(32);
    head.accounts = get_be(v, 8);
    head.slots = get_be(v, 8);
    const uint64_t n = get_be(v, 4);
    if (v.size() != n * 40) {
        return bad(std::to_string(n) + " window roots announced, " + std::to_string(v.size()) + " bytes follow");
    }
    head.block = has_head != 0 ? std::optional<uint64_t>{block} : std::nullopt;
    window.clear();
    for (uint64_t i = 0; i < n; ++i) {
        StateStore::BlockRoot br;
        br.block = get_be(v, 8);
        br.root = to_hash(v.substr(0, 32));
        v.remove_prefix(32);
        if (!window.empty() && br.block != window.back().block + 1) return bad("window blocks are not consecutive");
        window.push_back(br);
    }
    if (!head.block) {
        if (head.root != trie::kEmptyRoot || !window.empty() || head.accounts != 0 || head.slots != 0) {
            return bad("no head block, but a root, counts or a window");
        }
        return {};
    }
    if (window.empty() || window.back().block != *head.block || window.back().root != head.root) {
        return bad("the window does not end at the head block " + std::to_string(*head.block));
    }
    return {};
}

Status diff_error_status(uint64_t block, state::DiffError e) {
    if (e == state::DiffError::kMissingNode) {
        return Status::corruption(
            "block " + std::to_string(block) +
            ": a trie node of the head state is missing from column trie_nodes or does not decode");
    }
    return Status::invalid_argument("block " + std::to_string(block) + " does not apply: " + std::string{to_string(e)});
}

// Deletes every key of `column` (keys of the store are at most 64 bytes).
void delete_column(WriteBatch& batch, Column column) { batch.del_range(column, Bytes{}, Bytes(65, 0xff)); }

}  // namespace

// ---- the node cache ----------------------------------------------------------------------------------

// Committed trie nodes the store wrote or read lately: count and RLP (count 0: known to be absent).
// Blocks touch the same paths again and again (hot accounts and contracts, the top levels), and
// WorldState reopens storage tries every block, so this saves most of their KV reads. Bounded, with
// two generations: lookups promote from the old one; when the young one fills half the budget, it
// becomes the old one (an approximate LRU at O(1) per operation). Only the store's own thread uses it.
class StateStore::NodeCache {
  public:
    struct Entry {
        uint64_t count{0};
        Bytes rlp;
    };

    explicit NodeCache(std::size_t max_bytes) : max_bytes_{max_bytes} {}

    // The entry of `hash`, or null. The pointer lives until the next put() or find().
    const Entry* find(const Hash& hash) {
        if (auto it = young_.find(hash); it != young_.end()) return &it->second;
        auto it = old_.find(hash);
        if (it == old_.end()) return nullptr;
        Entry e = std::move(it->second);
        old_.erase(it);
        return put(hash, e.count, std::move(e.rlp));
    }

    const Entry* put(const Hash& hash, uint64_t count, Bytes rlp) {
        if (max_bytes_ == 0) {
            scratch_ = Entry{count, std::move(rlp)};
            return &scratch_;
        }
        if (young_bytes_ > max_bytes_ / 2) {
            old_ = std::move(young_);
            young_.clear();
            young_bytes_ = 0;
        }
        young_bytes_ += rlp.size() + kOverhead;
        auto [it, inserted] = young_.insert_or_assign(hash, Entry{count, std::move(rlp)});
        (void)inserted;
        return &it->second;
    }

    void clear() {
        young_.clear();
        old_.clear();
        young_bytes_ = 0;
    }

  private:
    static constexpr std::size_t kOverhead = 96;  // key, entry and hash-table node, roughly
    std::size_t max_bytes_;
    std::size_t young_bytes_{0};
    std::unordered_map<Hash, Entry, trie::HashHasher> young_, old_;
    Entry scratch_;
};

// ---- the import filter ---------------------------------------------------------------------------------

// A Bloom filter of the nodes a genesis import has written so far. The store was empty when the
// import began, so a node the filter has never seen is certainly not stored, and its count needs no
// KV read: only repeated nodes (equal storage tries) and false positives (about 1%) are looked up.
// Keys are Keccak hashes, uniform already: the probes come from the hash's own bytes.
class ImportFilter {
  public:
    explicit ImportFilter(std::size_t expected) {
        std::size_t words = 1;
        while (words * 64 < expected * 20) words *= 2;  // 20 bits per leaf: about 10 per node
        bits_.assign(words, 0);
    }
    void add(const Hash& h) noexcept {
        for (unsigned i = 0; i < kProbes; ++i) {
            const uint64_t b = probe(h, i);
            bits_[b / 64] |= uint64_t{1} << (b % 64);
        }
    }
    [[nodiscard]] bool may_contain(const Hash& h) const noexcept {
        for (unsigned i = 0; i < kProbes; ++i) {
            const uint64_t b = probe(h, i);
            if ((bits_[b / 64] & (uint64_t{1} << (b % 64))) == 0) return false;
        }
        return true;
    }

  private:
    static constexpr unsigned kProbes = 7;
    [[nodiscard]] uint64_t probe(const Hash& h, unsigned i) const noexcept {
        uint64_t a = 0, b = 0;
        std::memcpy(&a, h.data(), 8);
        std::memcpy(&b, h.data() + 8, 8);
        return (a + i * (b | 1)) & (bits_.size() * 64 - 1);  // double hashing
    }
    std::vector<uint64_t> bits_;
};

// ---- pending writes (the overlay) ------------------------------------------------------------------

// Everything a block changes before it is committed. The adapters read through it: pending first,
// then the KV.
struct StateStore::Pending {
    struct Node {
        uint64_t count{0};  // 0: absent (deleted at commit if it was stored)
        Bytes rlp;
        bool dirty{false};
    };
    std::unordered_map<Hash, Node, trie::HashHasher> nodes;
    std::unordered_map<Hash, Bytes, trie::HashHasher> code;
    std::vector<Hash> released;
    std::size_t bytes{0};                 // approximate bytes of the pending nodes and code
    Status error;                         // the first KV error met while applying
    const ImportFilter* import{nullptr};  // during a genesis import: the nodes written so far

    void clear() {
        nodes.clear();
        code.clear();
        released.clear();
        bytes = 0;
        error = Status{};
        import = nullptr;
    }
    void note(const Status& s) {
        if (error.ok() && !s.ok()) error = s;
    }

    // The pending entry of `hash`, loaded from the cache or the KV if it is not pending yet.
    Status slot(const KV& kv, NodeCache& cache, const Hash& hash, Node*& out) {
        auto [it, inserted] = nodes.try_emplace(hash);
        out = &it->second;
        if (!inserted) return {};
        if (import != nullptr && !import->may_contain(hash)) return {};
        if (const NodeCache::Entry* e = cache.find(hash)) {
            out->count = e->count;
            out->rlp = e->rlp;
            return {};
        }
        Bytes v;
        Status s = kv.get(Column::kTrieNodes, view(hash), v);
        if (s.is_not_found()) return {};
        if (!s.ok()) {
            nodes.erase(it);
            return s;
        }
        auto decoded = decode_node_value(v);
        if (!decoded) {
            nodes.erase(it);
            return malformed_node(hash);
        }
        out->count = decoded->count;
        out->rlp = Bytes{decoded->rlp};
        return {};
    }
};

// The NodeStore that blocks apply to: reads see pending writes, puts count, releases are journaled.
class StateStore::NodeAdapter final : public trie::NodeStore {
  public:
    NodeAdapter(KV& kv, Pending& pending, NodeCache& cache) : kv_{kv}, pending_{pending}, cache_{cache} {}

    // A failed read is also noted in the pending block, which then fails with it.
    trie::NodeRead find_node(const Hash& hash) const override {
        if (auto it = pending_.nodes.find(hash); it != pending_.nodes.end()) {
            if (it->second.count == 0) return std::nullopt;
            return it->second.rlp;
        }
        if (const NodeCache::Entry* e = cache_.find(hash)) {
            if (e->count == 0) return std::nullopt;
            return e->rlp;
        }
        Bytes v;
        Status s = kv_.get(Column::kTrieNodes, view(hash), v);
        if (s.is_not_found()) return std::nullopt;
        if (s.ok()) {
            auto decoded = decode_node_value(v);
            if (decoded) return cache_.put(hash, decoded->count, Bytes{decoded->rlp})->rlp;
            s = malformed_node(hash);
        }
        pending_.note(s);
        return tl::unexpected{std::move(s)};
    }

    void put_node(const Hash& hash, ByteView rlp) override {
        Pending::Node* n = nullptr;
        if (Status s = pending_.slot(kv_, cache_, hash, n); !s.ok()) {
            pending_.note(s);
            return;
        }
        if (n->count == 0) {
            n->rlp = Bytes{rlp};
            pending_.bytes += rlp.size() + 48;
        }
        ++n->count;
        n->dirty = true;
    }

    void release_node(const Hash& hash) override { pending_.released.push_back(hash); }

  private:
    KV& kv_;
    Pending& pending_;
    NodeCache& cache_;
};

class StateStore::CodeAdapter final : public state::CodeStore {
  public:
    CodeAdapter(KV& kv, Pending& pending) : kv_{kv}, pending_{pending} {}

    std::optional<Bytes> get_code(const Hash& code_hash) const override {
        if (auto it = pending_.code.find(code_hash); it != pending_.code.end()) return it->second;
        Bytes v;
        Status s = kv_.get(Column::kCode, view(code_hash), v);
        if (!s.ok()) {
            if (!s.is_not_found()) pending_.note(s);
            return std::nullopt;
        }
        return v;
    }
    void put_code(const Hash& code_hash, ByteView code) override {
        if (pending_.code.try_emplace(code_hash, code).second) pending_.bytes += code.size() + 48;
    }

  private:
    KV& kv_;
    Pending& pending_;
};

// Read-only views of the committed state.
class StateStore::ReadNodes final : public trie::NodeStore {
  public:
    explicit ReadNodes(const KV& kv) : kv_{kv} {}
    trie::NodeRead find_node(const Hash& hash) const override {
        Bytes v;
        auto found = read_node(hash, v);
        if (!found) return tl::unexpected{std::move(found.error())};
        if (!*found) return std::nullopt;
        return v;
    }
    // Reads into `out` and drops the count in place: one copy fewer than find_node.
    trie::NodeFound read_node(const Hash& hash, Bytes& out) const override {
        Status s = kv_.get(Column::kTrieNodes, view(hash), out);
        if (s.is_not_found()) return false;
        if (!s.ok()) return tl::unexpected{std::move(s)};
        auto decoded = decode_node_value(out);
        if (!decoded) return tl::unexpected{malformed_node(hash)};
        out.erase(0, static_cast<std::size_t>(decoded->rlp.data() - out.data()));
        return true;
    }
    void put_node(const Hash&, ByteView) override {}
    void release_node(const Hash&) override {}

  private:
    const KV& kv_;
};

class StateStore::ReadCode final : public state::CodeStore {
  public:
    explicit ReadCode(const KV& kv) : kv_{kv} {}
    std::optional<Bytes> get_code(const Hash& code_hash) const override {
        Bytes v;
        if (!kv_.get(Column::kCode, view(code_hash), v).ok()) return std::nullopt;
        return v;
    }
    void put_code(const Hash&, ByteView) override {}

  private:
    const KV& kv_;
};

// ---- LeafIterator ------------------------------------------------------------------------------------

LeafIterator::LeafIterator(std::unique_ptr<Iterator> it, Bytes prefix) noexcept
    : it_{std::move(it)}, prefix_bytes_{std::move(prefix)}, prefix_{prefix_bytes_.size()} {
    it_->seek_to_first();
}

void LeafIterator::seek(const Hash& key) noexcept {
    Bytes target = prefix_bytes_;
    target.append(view(key));
    it_->seek(target);
}

// ---- open ----------------------------------------------------------------------------------------------

StateStore::StateStore(PrivateTag /*tag*/, KV& kv, const Options& options)
    : kv_{kv},
      options_{options},
      head_{std::nullopt, trie::kEmptyRoot, 0, 0},
      pending_{std::make_unique<Pending>()},
      cache_{std::make_unique<NodeCache>(options.node_cache_bytes)},
      node_adapter_{std::make_unique<NodeAdapter>(kv, *pending_, *cache_)},
      code_adapter_{std::make_unique<CodeAdapter>(kv, *pending_)},
      read_nodes_{std::make_unique<ReadNodes>(kv)},
      read_code_{std::make_unique<ReadCode>(kv)} {}

StateStore::~StateStore() = default;

tl::expected<std::unique_ptr<StateStore>, Status> StateStore::open(KV& kv, const Options& options) {
    if (options.root_window == 0) return tl::unexpected{Status::invalid_argument("root_window must be at least 1")};
    auto store = std::make_unique<StateStore>(PrivateTag{}, kv, options);
    if (Status s = store->load(); !s.ok()) return tl::unexpected{std::move(s)};
    return store;
}

void StateStore::reset_world() {
    pending_->clear();
    world_ = std::make_unique<state::WorldState>(*node_adapter_, *code_adapter_, head_.root);
    blocks_since_reset_ = 0;
}

Status StateStore::wipe() {
    cache_->clear();
    WriteBatch batch;
    for (Column c : kOwnColumns) delete_column(batch, c);
    batch.del(Column::kMeta, view(kStateKey));
    batch.del(Column::kMeta, view(kImportKey));
    return kv_.write(batch, WriteOptions{.sync = true});
}

Status StateStore::load() {
    Bytes v;
    Status s = kv_.get(Column::kMeta, view(kImportKey), v);
    if (s.ok()) {
        // A genesis import that did not finish: nothing of it was ever a committed state. (Both a
        // marker and a state record cannot come from a StateStore: refuse rather than wipe a state.)
        s = kv_.get(Column::kMeta, view(kStateKey), v);
        if (s.ok()) {
            return Status::corruption(
                "column meta holds both a \"state\" record and an \"import\" marker: the state store is damaged");
        }
        if (!s.is_not_found()) return s;
        if (Status w = wipe(); !w.ok()) return w;
    } else if (!s.is_not_found()) {
        return s;
    }

    s = kv_.get(Column::kMeta, view(kStateKey), v);
    if (s.is_not_found()) {
        for (Column c : kOwnColumns) {
            auto it = kv_.new_iterator(c);
            it->seek_to_first();
            if (it->valid()) {
                return Status::corruption("no \"state\" record in column meta, but column " +
                                          std::string{to_string(c)} +
                                          " holds data: not a carousel state store, or one that lost its meta record");
            }
            if (!it->status().ok()) return it->status();
        }
        reset_world();
        return {};
    }
    if (!s.ok()) return s;
    if (s = decode_state(v, head_, window_); !s.ok()) return s;

    for (const auto& br : window_) {
        if (br.root == trie::kEmptyRoot) continue;
        s = kv_.get(Column::kTrieNodes, view(br.root), v);
        const std::string which = br.block == *head_.block ? "the head root " : "the window root ";
        if (s.is_not_found()) {
            return Status::corruption(which + hex(br.root) + " of block " + std::to_string(br.block) +
                                      " is missing from column trie_nodes");
        }
        if (!s.ok()) return s;
        if (!decode_node_value(v)) return malformed_node(br.root);
    }
    reset_world();
    return check_flat_index();
}

// The cheap consistency check of the flat index against the head trie (see Options::open_probes).
Status StateStore::check_flat_index() {
    const std::string at =
        " (head block " + std::to_string(head_.block.value_or(0)) + ", root " + hex(head_.root) + ")";
    auto disagree = [&](const std::string& what) {
        return Status::corruption("the flat index disagrees with the head state" + at + ": " + what);
    };
    auto missing = [&](trie::TrieError e) {
        return Status::corruption("the head state" + at + " cannot be read: " + std::string{to_string(e)});
    };

    if (head_.root == trie::kEmptyRoot) {
        for (Column c : {Column::kAccountLeaves, Column::kStorageLeaves}) {
            auto it = kv_.new_iterator(c);
            it->seek_to_first();
            if (it->valid()) return disagree("the state is empty but column " + std::string{to_string(c)} + " is not");
            if (!it->status().ok()) return it->status();
        }
        return {};
    }

    // Probes: the first leaf after a pseudo-random key, in the trie and in the flat index.
    trie::Trie accounts{read_nodes_.get(), head_.root};
    auto flat_accounts = kv_.new_iterator(Column::kAccountLeaves);
    for (uint32_t i = 0; i < options_.open_probes; ++i) {
        Bytes seed{view(head_.root)};
        put_be(seed, i, 4);
        const Hash probe = keccak256(seed);
        auto want = accounts.next_key(view(probe));
        if (!want) return missing(want.error());
        flat_accounts->seek(view(probe));
        if (flat_accounts->valid() && flat_accounts->key() == view(probe)) flat_accounts->next();
        if (!flat_accounts->status().ok()) return flat_accounts->status();
        const std::optional<Bytes> got =
            flat_accounts->valid() ? std::optional<Bytes>{flat_accounts->key()} : std::nullopt;
        if (got != *want) {
            return disagree("the first account after " + hex(probe) + " is " +
                            (*want ? to_hex_prefixed(**want) : std::string{"none"}) + " in the trie but " +
                            (got ? to_hex_prefixed(*got) : std::string{"none"}) + " in the flat index");
        }
        if (!got) continue;
        auto value = accounts.get(*got);
        if (!value) return missing(value.error());
        if (!*value || **value != flat_accounts->value()) {
            return disagree("account " + to_hex_prefixed(*got) + " differs between the trie and the flat index");
        }
        ByteView in = **value;
        auto account = state::decode_account(in);
        if (!account || !in.empty()) return disagree("account " + to_hex_prefixed(*got) + " does not decode");
        if (account->storage_root == trie::kEmptyRoot) continue;

        // The account's storage at a probe too.
        const Hash account_key = to_hash(*got);
        const Hash slot_probe = keccak256(view(probe));
        trie::Trie storage{read_nodes_.get(), account->storage_root};
        auto want_slot = storage.next_key(view(slot_probe));
        if (!want_slot) return missing(want_slot.error());
        auto flat_slots = kv_.new_iterator(Column::kStorageLeaves, KeyRange::with_prefix(view(account_key)));
        flat_slots->seek(slot_leaf_key(account_key, slot_probe));
        if (!flat_slots->status().ok()) return flat_slots->status();
        std::optional<Bytes> got_slot;
        if (flat_slots->valid()) got_slot = Bytes{flat_slots->key().substr(32)};
        if (got_slot != *want_slot) {
            return disagree("the first slot of account " + hex(account_key) + " after " + hex(slot_probe) + " is " +
                            (*want_slot ? to_hex_prefixed(**want_slot) : std::string{"none"}) + " in the trie but " +
                            (got_slot ? to_hex_prefixed(*got_slot) : std::string{"none"}) + " in the flat index");
        }
        if (got_slot) {
            auto slot_value = storage.get(*got_slot);
            if (!slot_value) return missing(slot_value.error());
            if (!*slot_value || **slot_value != flat_slots->value()) {
                return disagree("slot " + to_hex_prefixed(*got_slot) + " of account " + hex(account_key) +
                                " differs between the trie and the flat index");
            }
        }
    }

    // The head block's own changes, where a torn write would show first.
    auto d = diff(*head_.block);
    if (!d) return d.error();
    if (!*d) return {};
    for (const auto& a : (*d)->accounts) {
        auto got = account(a.key);
        if (!got) return got.error();
        if (*got != a.after) {
            return disagree("account " + hex(a.key) + " changed by block " + std::to_string(*head_.block) +
                            " does not hold the block's value in the flat index");
        }
    }
    for (const auto& sc : (*d)->slots) {
        auto got = storage(sc.account_key, sc.slot_key);
        if (!got) return got.error();
        if (*got != sc.after) {
            return disagree("slot " + hex(sc.slot_key) + " of account " + hex(sc.account_key) + " changed by block " +
                            std::to_string(*head_.block) + " does not hold the block's value in the flat index");
        }
    }
    return {};
}

// ---- writing ---------------------------------------------------------------------------------------------

Status StateStore::apply_block(const state::StateDiff& diff) { return apply_impl(diff, nullptr); }

Status StateStore::seal_and_apply_block(state::StateDiff& diff) { return apply_impl(diff, &diff); }

Status StateStore::apply_impl(const state::StateDiff& diff, state::StateDiff* seal) {
    if (!head_.block) return apply_genesis(diff, seal);
    if (diff.block != *head_.block + 1) {
        return Status::invalid_argument("block " + std::to_string(diff.block) + " does not follow the head block " +
                                        std::to_string(*head_.block));
    }
    if (seal == nullptr && diff.parent_root != head_.root) {
        return Status::invalid_argument("block " + std::to_string(diff.block) + " has parent root " +
                                        hex(diff.parent_root) + ", not the head root " + hex(head_.root));
    }
    if (options_.cache_reset_blocks != 0 && blocks_since_reset_ >= options_.cache_reset_blocks) reset_world();

    pending_->clear();
    auto r = seal != nullptr ? world_->seal_and_apply(*seal) : world_->apply(diff);
    if (!r || !pending_->error.ok()) {
        Status s = pending_->error.ok() ? diff_error_status(diff.block, r.error()) : pending_->error;
        reset_world();
        return s;
    }

    Head next = head_;
    next.block = diff.block;
    next.root = *r;
    for (const auto& a : diff.accounts) {
        if (!a.before && a.after) ++next.accounts;
        if (a.before && !a.after) --next.accounts;
    }
    for (const auto& sc : diff.slots) {
        if (sc.before.empty() && !sc.after.empty()) ++next.slots;
        if (!sc.before.empty() && sc.after.empty()) --next.slots;
    }
    if (Status s = commit(diff, true, next); !s.ok()) {
        reset_world();
        return s;
    }
    ++blocks_since_reset_;
    return {};
}

// Applies the releases journaled by `block` (read from the KV, or given when it is the block being
// committed) to the pending counts.
Status StateStore::prune_block(uint64_t block, const std::vector<Hash>* in_memory_journal) {
    Bytes record;
    ByteView hashes;
    if (in_memory_journal != nullptr) {
        for (const Hash& h : *in_memory_journal) record.append(view(h));
    } else {
        Status s = kv_.get(Column::kBlocks, journal_key(block), record);
        if (s.is_not_found()) return {};  // the block released nothing
        if (!s.ok()) return s;
        if (record.size() % 32 != 0) {
            return Status::corruption("the pruning journal of block " + std::to_string(block) + " is " +
                                      std::to_string(record.size()) + " bytes, not a multiple of 32");
        }
    }
    hashes = record;
    for (; !hashes.empty(); hashes.remove_prefix(32)) {
        const Hash h = to_hash(hashes.substr(0, 32));
        Pending::Node* n = nullptr;
        if (Status s = pending_->slot(kv_, *cache_, h, n); !s.ok()) return s;
        if (n->count == 0) {
            return Status::corruption("pruning block " + std::to_string(block) + ": trie node " + hex(h) +
                                      " is released but not stored");
        }
        --n->count;
        n->dirty = true;
    }
    return {};
}

Status StateStore::commit(const state::StateDiff& diff, bool store_diff, const Head& new_head) {
    // One batch reused block after block: its buffer (megabytes) is not freed and reallocated each
    // time, which with a large heap costs glibc's allocator more than filling it.
    WriteBatch& batch = batch_;
    batch.clear();
    for (const auto& a : diff.accounts) {
        if (a.after) {
            batch.put(Column::kAccountLeaves, view(a.key), state::encode_account(*a.after));
        } else {
            batch.del(Column::kAccountLeaves, view(a.key));
        }
    }
    for (const auto& sc : diff.slots) {
        const Bytes key = slot_leaf_key(sc.account_key, sc.slot_key);
        if (sc.after.empty()) {
            batch.del(Column::kStorageLeaves, key);
        } else {
            batch.put(Column::kStorageLeaves, key, sc.after);
        }
    }
    for (const auto& [h, c] : pending_->code) batch.put(Column::kCode, view(h), c);
    if (store_diff) batch.put(Column::kBlocks, block_key(diff.block), state::encode_state_diff(diff));
    if (options_.diff_retention != 0 && diff.block >= options_.diff_retention) {
        batch.del(Column::kBlocks, block_key(diff.block - options_.diff_retention));
    }

    // The window moves on; the roots that leave it take the nodes their successors released.
    std::deque<BlockRoot> window = window_;
    window.push_back({diff.block, new_head.root});
    bool journal_applied = false;
    while (window.size() > options_.root_window) {
        window.pop_front();
        const uint64_t b = window.front().block;
        if (b == diff.block) {
            if (Status s = prune_block(b, &pending_->released); !s.ok()) return s;
            journal_applied = true;
        } else {
            if (Status s = prune_block(b, nullptr); !s.ok()) return s;
            batch.del(Column::kBlocks, journal_key(b));
        }
    }
    if (!journal_applied && !pending_->released.empty()) {
        Bytes record;
        record.reserve(pending_->released.size() * 32);
        for (const Hash& h : pending_->released) record.append(view(h));
        batch.put(Column::kBlocks, journal_key(diff.block), record);
    }

    for (const auto& [h, n] : pending_->nodes) {
        if (!n.dirty) continue;
        if (n.count > 0) {
            batch.put(Column::kTrieNodes, view(h), encode_node_value(n.count, n.rlp));
        } else {
            batch.del(Column::kTrieNodes, view(h));
        }
    }
    batch.put(Column::kMeta, view(kStateKey), encode_state(new_head, window));

    if (Status s = kv_.write(batch, WriteOptions{.sync = options_.sync}); !s.ok()) return s;
    head_ = new_head;
    window_ = std::move(window);
    for (auto& [h, n] : pending_->nodes) {
        if (n.dirty) cache_->put(h, n.count, n.count > 0 ? std::move(n.rlp) : Bytes{});
    }
    pending_->clear();
    return {};
}

// The first block: every change a creation, built bottom-up with HashBuilder (a streaming pass over
// the sorted diff, memory bounded by Options::import_batch_bytes), no WorldState involved.
Status StateStore::apply_genesis(const state::StateDiff& diff, state::StateDiff* seal) {
    const std::string block = std::to_string(diff.block);
    auto fail = [&](state::DiffError e) { return diff_error_status(diff.block, e); };
    if (auto v = state::validate(diff); !v) return fail(v.error());
    if (seal != nullptr) {
        seal->parent_root = trie::kEmptyRoot;
    } else if (diff.parent_root != trie::kEmptyRoot) {
        return Status::invalid_argument("block " + block +
                                        " is the first block of an empty store, but its parent root " +
                                        hex(diff.parent_root) + " is not the empty trie's root");
    }

    pending_->clear();
    std::unordered_set<Hash, trie::HashHasher> codes;
    for (const Bytes& c : diff.code) {
        const Hash h = keccak256(c);
        codes.insert(h);
        code_adapter_->put_code(h, c);
    }

    // Writes so far, flushed in chunks when they outgrow import_batch_bytes.
    WriteBatch batch;
    bool chunked = false;
    Status error;
    ImportFilter written{diff.accounts.size() + diff.slots.size()};
    pending_->import = &written;
    auto flush_nodes = [&] {
        for (const auto& [h, n] : pending_->nodes) {
            if (!n.dirty) continue;
            batch.put(Column::kTrieNodes, view(h), encode_node_value(n.count, n.rlp));
            written.add(h);
        }
        for (const auto& [h, c] : pending_->code) batch.put(Column::kCode, view(h), c);
        pending_->nodes.clear();
        pending_->code.clear();
        pending_->bytes = 0;
    };
    auto flush_chunk = [&]() -> Status {
        flush_nodes();
        if (!chunked) batch.put(Column::kMeta, view(kImportKey), block_key(diff.block));
        chunked = true;
        Status s = kv_.write(batch);
        batch.clear();
        return s;
    };

    NodeAdapter& nodes = *node_adapter_;
    trie::HashBuilder account_hb{[&nodes](ByteView, const Hash& h, ByteView rlp) { nodes.put_node(h, rlp); }};
    trie::HashBuilder storage_hb{[&nodes](ByteView, const Hash& h, ByteView rlp) { nodes.put_node(h, rlp); }};
    Head next{diff.block, trie::kEmptyRoot, 0, 0};
    std::size_t si = 0;
    for (std::size_t ai = 0; ai < diff.accounts.size() && error.ok(); ++ai) {
        const state::AccountChange& change = diff.accounts[ai];
        if (change.before || !change.after) {
            error = fail(state::DiffError::kBeforeMismatch);  // the state is empty: nothing to update or delete
            break;
        }
        bool has_slots = false;
        for (; si < diff.slots.size() && diff.slots[si].account_key == change.key; ++si) {
            const state::SlotChange& sc = diff.slots[si];
            if (!sc.before.empty()) {
                error = fail(state::DiffError::kBeforeMismatch);
                break;
            }
            storage_hb.add_leaf(view(sc.slot_key), sc.after);
            batch.put(Column::kStorageLeaves, slot_leaf_key(sc.account_key, sc.slot_key), sc.after);
            has_slots = true;
            ++next.slots;
        }
        if (!error.ok()) break;
        const Hash storage_root = has_slots ? storage_hb.root() : trie::kEmptyRoot;
        if (seal != nullptr) {
            seal->accounts[ai].after->storage_root = storage_root;
        } else if (storage_root != change.after->storage_root) {
            error = fail(state::DiffError::kStorageRootMismatch);
            break;
        }
        if (change.after->code_hash != state::kEmptyCodeHash && codes.count(change.after->code_hash) == 0) {
            error = fail(state::DiffError::kMissingCode);
            break;
        }
        const Bytes rlp = state::encode_account(*change.after);
        account_hb.add_leaf(view(change.key), rlp);
        batch.put(Column::kAccountLeaves, view(change.key), rlp);
        ++next.accounts;
        if (!pending_->error.ok()) error = pending_->error;
        if (error.ok() && batch.byte_size() + pending_->bytes > options_.import_batch_bytes) error = flush_chunk();
    }
    if (error.ok()) {
        next.root = account_hb.root();
        if (seal != nullptr) {
            seal->root = next.root;
        } else if (next.root != diff.root) {
            error = fail(state::DiffError::kRootMismatch);
        }
    }
    if (error.ok() && !pending_->error.ok()) error = pending_->error;
    if (!error.ok()) {
        pending_->clear();
        if (chunked) {
            if (Status w = wipe(); !w.ok()) return w;
        }
        return error;
    }

    flush_nodes();
    std::deque<BlockRoot> window{{diff.block, next.root}};
    batch.put(Column::kMeta, view(kStateKey), encode_state(next, window));
    if (chunked) batch.del(Column::kMeta, view(kImportKey));
    if (Status s = kv_.write(batch, WriteOptions{.sync = options_.sync}); !s.ok()) {
        pending_->clear();
        if (chunked) (void)wipe();
        return s;
    }
    head_ = next;
    window_ = std::move(window);
    reset_world();
    return {};
}

// ---- reading ---------------------------------------------------------------------------------------------

StateStore::Head StateStore::head() const { return head_; }

std::vector<StateStore::BlockRoot> StateStore::roots() const { return {window_.begin(), window_.end()}; }

std::optional<Hash> StateStore::root_at(uint64_t block) const {
    if (window_.empty() || block < window_.front().block || block > window_.back().block) return std::nullopt;
    return window_[block - window_.front().block].root;
}

tl::expected<std::optional<state::Account>, Status> StateStore::account(const Hash& account_key) const {
    Bytes v;
    Status s = kv_.get(Column::kAccountLeaves, view(account_key), v);
    if (s.is_not_found()) return std::optional<state::Account>{};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    ByteView in = v;
    auto a = state::decode_account(in);
    if (!a || !in.empty()) {
        return tl::unexpected{Status::corruption("the account leaf " + hex(account_key) + " does not decode")};
    }
    return std::optional<state::Account>{*a};
}

tl::expected<Bytes, Status> StateStore::storage(const Hash& account_key, const Hash& slot_key) const {
    Bytes v;
    Status s = kv_.get(Column::kStorageLeaves, slot_leaf_key(account_key, slot_key), v);
    if (s.is_not_found()) return Bytes{};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    return v;
}

LeafIterator StateStore::account_leaves(const Hash& from, const std::optional<Hash>& to) const {
    KeyRange range{Bytes{view(from)}, to ? std::optional<Bytes>{Bytes{view(*to)}} : std::nullopt};
    return LeafIterator{kv_.new_iterator(Column::kAccountLeaves, std::move(range)), Bytes{}};
}

LeafIterator StateStore::storage_leaves(const Hash& account_key, const Hash& from,
                                        const std::optional<Hash>& to) const {
    KeyRange range{slot_leaf_key(account_key, from),
                   to ? std::optional<Bytes>{slot_leaf_key(account_key, *to)} : prefix_successor(view(account_key))};
    return LeafIterator{kv_.new_iterator(Column::kStorageLeaves, std::move(range)), Bytes{view(account_key)}};
}

tl::expected<std::optional<Bytes>, Status> StateStore::node(const Hash& hash) const {
    Bytes v;
    Status s = kv_.get(Column::kTrieNodes, view(hash), v);
    if (s.is_not_found()) return std::optional<Bytes>{};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    auto decoded = decode_node_value(v);
    if (!decoded) return tl::unexpected{malformed_node(hash)};
    return std::optional<Bytes>{Bytes{decoded->rlp}};
}

tl::expected<uint64_t, Status> StateStore::node_references(const Hash& hash) const {
    Bytes v;
    Status s = kv_.get(Column::kTrieNodes, view(hash), v);
    if (s.is_not_found()) return uint64_t{0};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    auto decoded = decode_node_value(v);
    if (!decoded) return tl::unexpected{malformed_node(hash)};
    return decoded->count;
}

tl::expected<std::optional<Bytes>, Status> StateStore::code(const Hash& code_hash) const {
    Bytes v;
    Status s = kv_.get(Column::kCode, view(code_hash), v);
    if (s.is_not_found()) return std::optional<Bytes>{};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    return std::optional<Bytes>{std::move(v)};
}

tl::expected<std::optional<state::StateDiff>, Status> StateStore::diff(uint64_t block) const {
    Bytes v;
    Status s = kv_.get(Column::kBlocks, block_key(block), v);
    if (s.is_not_found()) return std::optional<state::StateDiff>{};
    if (!s.ok()) return tl::unexpected{std::move(s)};
    auto d = state::decode_state_diff(v);
    if (!d) {
        return tl::unexpected{Status::corruption("the diff of block " + std::to_string(block) +
                                                 " does not decode: " + std::string{to_string(d.error())})};
    }
    if (d->block != block) {
        return tl::unexpected{Status::corruption("the diff stored for block " + std::to_string(block) + " is block " +
                                                 std::to_string(d->block))};
    }
    return std::optional<state::StateDiff>{std::move(*d)};
}

trie::NodeStore& StateStore::node_store() noexcept { return *read_nodes_; }
state::CodeStore& StateStore::code_store() noexcept { return *read_code_; }

// ---- verify -------------------------------------------------------------------------------------------------

Status StateStore::verify() const {
    const std::string at = " (head block " + (head_.block ? std::to_string(*head_.block) : std::string{"none"}) +
                           ", root " + hex(head_.root) + ")";
    auto bad = [&](const std::string& what) { return Status::corruption("verify" + at + ": " + what); };

    auto accounts = kv_.new_iterator(Column::kAccountLeaves);
    auto slots = kv_.new_iterator(Column::kStorageLeaves);
    accounts->seek_to_first();
    slots->seek_to_first();
    trie::HashBuilder hb;
    trie::HashBuilder shb;
    uint64_t n_accounts = 0, n_slots = 0;
    std::unordered_set<Hash, trie::HashHasher> codes_seen;
    for (; accounts->valid(); accounts->next()) {
        const ByteView key = accounts->key();
        if (key.size() != 32) return bad("account leaf key " + to_hex_prefixed(key) + " is not 32 bytes");
        ByteView in = accounts->value();
        auto account = state::decode_account(in);
        if (!account || !in.empty()) return bad("account leaf " + to_hex_prefixed(key) + " does not decode");
        if (slots->valid() && slots->key().substr(0, 32) < key) {
            return bad("storage leaf " + to_hex_prefixed(slots->key()) + " belongs to no account");
        }
        bool has_slots = false;
        for (; slots->valid() && slots->key().substr(0, 32) == key; slots->next()) {
            if (slots->key().size() != 64)
                return bad("storage leaf key " + to_hex_prefixed(slots->key()) + " is not 64 bytes");
            if (slots->value().empty()) return bad("storage leaf " + to_hex_prefixed(slots->key()) + " is empty");
            shb.add_leaf(slots->key().substr(32), slots->value());
            has_slots = true;
            ++n_slots;
        }
        if (!slots->status().ok()) return slots->status();
        const Hash storage_root = has_slots ? shb.root() : trie::kEmptyRoot;
        if (storage_root != account->storage_root) {
            return bad("account " + to_hex_prefixed(key) + " has storage root " + hex(account->storage_root) +
                       " but its storage leaves give " + hex(storage_root));
        }
        if (account->code_hash != state::kEmptyCodeHash && codes_seen.insert(account->code_hash).second) {
            Bytes c;
            Status s = kv_.get(Column::kCode, view(account->code_hash), c);
            if (s.is_not_found())
                return bad("the code " + hex(account->code_hash) + " of account " + to_hex_prefixed(key) +
                           " is missing");
            if (!s.ok()) return s;
            if (keccak256(c) != account->code_hash)
                return bad("the code stored under " + hex(account->code_hash) + " has another hash");
        }
        hb.add_leaf(key, accounts->value());
        ++n_accounts;
    }
    if (!accounts->status().ok()) return accounts->status();
    if (slots->valid()) return bad("storage leaf " + to_hex_prefixed(slots->key()) + " belongs to no account");
    if (!slots->status().ok()) return slots->status();

    const Hash root = hb.root();
    if (root != head_.root) return bad("the flat index's accounts give the root " + hex(root));
    if (n_accounts != head_.accounts || n_slots != head_.slots) {
        return bad("the flat index holds " + std::to_string(n_accounts) + " accounts and " + std::to_string(n_slots) +
                   " slots; the state record says " + std::to_string(head_.accounts) + " and " +
                   std::to_string(head_.slots));
    }
    for (const auto& br : window_) {
        if (br.root == trie::kEmptyRoot) continue;
        auto n = node(br.root);
        if (!n) return n.error();
        if (!*n) return bad("the root " + hex(br.root) + " of block " + std::to_string(br.block) + " is missing");
    }
    return {};
}

}  // namespace carousel::store
