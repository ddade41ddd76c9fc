// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "mgr_messages.hpp"

#include <cstring>

#include "wire_codec.hpp"

namespace carousel::proto {

using namespace wire;  // NOLINT(google-build-using-namespace): the codec helpers

namespace {

R<std::vector<Hash>> packed_hashes_of(ByteView& in, std::size_t max_count) {
    auto s = string_of(in);
    if (!s) return tl::unexpected{s.error()};
    if (s->size() % 32 != 0) return tl::unexpected{WireError::kMalformed};
    if (s->size() / 32 > max_count) return tl::unexpected{WireError::kTooLarge};
    std::vector<Hash> out(s->size() / 32);
    for (std::size_t i = 0; i < out.size(); ++i) std::memcpy(out[i].data(), s->data() + 32 * i, 32);
    return out;
}

void encode_packed_hashes(Bytes& out, const std::vector<Hash>& hashes) {
    Bytes packed;
    packed.reserve(hashes.size() * 32);
    for (const Hash& h : hashes) packed.append(h.data(), h.size());
    rlp::encode(out, packed);
}

// [code] | []: an answer's optional error.
void encode_error(Bytes& out, const std::optional<ChunkError>& error) {
    Bytes err;
    if (error) rlp::encode(err, uint64_t{static_cast<uint8_t>(*error)});
    wrap_list(out, err);
}

R<std::optional<ChunkError>> error_of(ByteView& in) {
    auto err = list_of(in);
    if (!err) return tl::unexpected{err.error()};
    ByteView ev = *err;
    if (ev.empty()) return std::optional<ChunkError>{};
    auto code = uint_of(ev);
    if (!code) return tl::unexpected{code.error()};
    if (*code != 0x0 && *code != 0x1 && *code != 0x2 && *code != 0x4) return tl::unexpected{WireError::kBadErrorCode};
    if (auto r = must_be_empty(ev); !r) return tl::unexpected{r.error()};
    return std::optional<ChunkError>{static_cast<ChunkError>(*code)};
}

}  // namespace

Bytes encode(const Offer& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    encode_packed_hashes(p, m.content_ids);
    return frame_of(MessageType::kOffer, p);
}

Bytes encode(const Accept& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    Bytes list;
    for (uint64_t i : m.indexes) rlp::encode(list, i);
    wrap_list(p, list);
    return frame_of(MessageType::kAccept, p);
}

Bytes encode(const Content& m) {
    Bytes p;
    rlp::encode(p, uint64_t{static_cast<uint8_t>(m.kind)});
    rlp::encode(p, m.payload);
    return frame_of(MessageType::kContent, p);
}

Bytes encode(const GetDiff& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    rlp::encode(p, ByteView{m.from_root.data(), m.from_root.size()});
    rlp::encode(p, ByteView{m.to_root.data(), m.to_root.size()});
    encode_path(p, m.from);
    encode_path(p, m.to);
    return frame_of(MessageType::kGetDiff, p);
}

Bytes encode(const DiffData& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    encode_error(p, m.error);
    encode_packed_hashes(p, m.keys);
    encode_string_list(p, m.values);
    encode_string_list(p, m.proof);
    return frame_of(MessageType::kDiffData, p);
}

WireResult<Offer> decode_offer(ByteView frame) {
    auto body = body_of(frame, MessageType::kOffer);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    Offer m;
    auto id = uint_of(in);
    if (!id) return tl::unexpected{id.error()};
    m.request_id = *id;
    auto ids = packed_hashes_of(in, kMaxOfferItems);
    if (!ids) return tl::unexpected{ids.error()};
    m.content_ids = std::move(*ids);
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

WireResult<Accept> decode_accept(ByteView frame) {
    auto body = body_of(frame, MessageType::kAccept);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    auto head = fields_of<uint64_t, rlp::List>(in);
    if (!head) return tl::unexpected{head.error()};
    Accept m;
    m.request_id = std::get<0>(*head);
    for (ByteView l = std::get<1>(*head).payload; !l.empty();) {
        if (m.indexes.size() >= kMaxOfferItems) return tl::unexpected{WireError::kTooLarge};
        auto i = uint_of(l);
        if (!i) return tl::unexpected{i.error()};
        if (*i >= kMaxOfferItems) return tl::unexpected{WireError::kTooLarge};
        if (!m.indexes.empty() && *i <= m.indexes.back()) return tl::unexpected{WireError::kMalformed};
        m.indexes.push_back(*i);
    }
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

WireResult<Content> decode_content(ByteView frame) {
    auto body = body_of(frame, MessageType::kContent);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    Content m;
    auto kind = uint_of(in);
    if (!kind) return tl::unexpected{kind.error()};
    if (*kind > static_cast<uint8_t>(ContentKind::kHeader)) return tl::unexpected{WireError::kUnknownType};
    m.kind = static_cast<ContentKind>(*kind);
    auto payload = string_of(in);
    if (!payload) return tl::unexpected{payload.error()};
    if (payload->size() > kMaxContentSize) return tl::unexpected{WireError::kTooLarge};
    m.payload = Bytes{*payload};
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

WireResult<GetDiff> decode_get_diff(ByteView frame) {
    auto body = body_of(frame, MessageType::kGetDiff);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    auto head = fields_of<uint64_t, Hash, Hash>(in);
    if (!head) return tl::unexpected{head.error()};
    GetDiff m;
    std::tie(m.request_id, m.from_root, m.to_root) = *head;
    auto from = path_of(in);
    if (!from) return tl::unexpected{from.error()};
    m.from = std::move(*from);
    auto to = path_of(in);
    if (!to) return tl::unexpected{to.error()};
    m.to = std::move(*to);
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

WireResult<DiffData> decode_diff_data(ByteView frame) {
    auto body = body_of(frame, MessageType::kDiffData);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    DiffData m;
    auto id = uint_of(in);
    if (!id) return tl::unexpected{id.error()};
    m.request_id = *id;
    auto error = error_of(in);
    if (!error) return tl::unexpected{error.error()};
    m.error = *error;
    auto keys = packed_hashes_of(in, kMaxDiffKeys);
    if (!keys) return tl::unexpected{keys.error()};
    m.keys = std::move(*keys);
    auto values = strings_of(in, kMaxDiffKeys, kMaxFrameSize);
    if (!values) return tl::unexpected{values.error()};
    m.values = std::move(*values);
    if (m.values.size() != m.keys.size()) return tl::unexpected{WireError::kMalformed};
    auto proof = strings_of(in, kMaxProofNodesPerEntry, kMaxFrameSize);
    if (!proof) return tl::unexpected{proof.error()};
    m.proof = std::move(*proof);
    if (m.error && (!m.keys.empty() || !m.proof.empty())) return tl::unexpected{WireError::kMalformed};
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

Bytes encode(const GetBareStorage& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    rlp::encode(p, ByteView{m.state_root.data(), m.state_root.size()});
    rlp::encode(p, ByteView{m.region_first.data(), m.region_first.size()});
    rlp::encode(p, m.region_bits);
    rlp::encode(p, ByteView{m.from.data(), m.from.size()});
    encode_packed_hashes(p, m.accounts);
    rlp::encode(p, m.max_size);
    return frame_of(MessageType::kGetBareStorage, p);
}

Bytes encode(const BareStorage& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    encode_error(p, m.error);
    rlp::encode(p, ByteView{m.covered_to.data(), m.covered_to.size()});
    Bytes entries;
    for (const BareEntry& e : m.entries) {
        Bytes entry;
        rlp::encode(entry, ByteView{e.account.data(), e.account.size()});
        rlp::encode(entry, uint64_t{e.large ? 1u : 0u});
        encode_packed_hashes(entry, e.keys);
        encode_string_list(entry, e.values);
        wrap_list(entries, entry);
    }
    wrap_list(p, entries);
    return frame_of(MessageType::kBareStorage, p);
}

WireResult<GetBareStorage> decode_get_bare_storage(ByteView frame) {
    auto body = body_of(frame, MessageType::kGetBareStorage);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    auto head = fields_of<uint64_t, Hash, Hash, uint64_t, Hash>(in);
    if (!head) return tl::unexpected{head.error()};
    GetBareStorage m;
    std::tie(m.request_id, m.state_root, m.region_first, m.region_bits, m.from) = *head;
    if (m.region_bits > 256) return tl::unexpected{WireError::kMalformed};
    auto accounts = packed_hashes_of(in, kMaxBareAccounts);
    if (!accounts) return tl::unexpected{accounts.error()};
    m.accounts = std::move(*accounts);
    for (std::size_t i = 1; i < m.accounts.size(); ++i) {
        if (!(m.accounts[i - 1] < m.accounts[i])) return tl::unexpected{WireError::kMalformed};
    }
    auto max_size = uint_of(in);
    if (!max_size) return tl::unexpected{max_size.error()};
    m.max_size = *max_size;
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

WireResult<BareStorage> decode_bare_storage(ByteView frame) {
    auto body = body_of(frame, MessageType::kBareStorage);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    BareStorage m;
    auto id = uint_of(in);
    if (!id) return tl::unexpected{id.error()};
    m.request_id = *id;
    auto error = error_of(in);
    if (!error) return tl::unexpected{error.error()};
    m.error = *error;
    auto covered = hash_of(in);
    if (!covered) return tl::unexpected{covered.error()};
    m.covered_to = *covered;
    auto entries = list_of(in);
    if (!entries) return tl::unexpected{entries.error()};
    for (ByteView list = *entries; !list.empty();) {
        if (m.entries.size() >= kMaxBareEntries) return tl::unexpected{WireError::kTooLarge};
        auto item = list_of(list);
        if (!item) return tl::unexpected{item.error()};
        ByteView e = *item;
        BareEntry entry;
        auto account = hash_of(e);
        if (!account) return tl::unexpected{account.error()};
        if (m.covered_to < *account || (!m.entries.empty() && !(m.entries.back().account < *account))) {
            return tl::unexpected{WireError::kMalformed};
        }
        entry.account = *account;
        auto large = uint_of(e);
        if (!large) return tl::unexpected{large.error()};
        if (*large > 1) return tl::unexpected{WireError::kMalformed};
        entry.large = *large == 1;
        auto keys = packed_hashes_of(e, kMaxBareLeaves);
        if (!keys) return tl::unexpected{keys.error()};
        entry.keys = std::move(*keys);
        auto values = strings_of(e, kMaxBareLeaves, kMaxFrameSize);
        if (!values) return tl::unexpected{values.error()};
        entry.values = std::move(*values);
        if (entry.values.size() != entry.keys.size() || (entry.large && !entry.keys.empty())) {
            return tl::unexpected{WireError::kMalformed};
        }
        for (std::size_t i = 0; i < entry.keys.size(); ++i) {
            if (entry.values[i].empty() || (i > 0 && !(entry.keys[i - 1] < entry.keys[i]))) {
                return tl::unexpected{WireError::kMalformed};
            }
        }
        if (auto r = must_be_empty(e); !r) return tl::unexpected{r.error()};
        m.entries.push_back(std::move(entry));
    }
    if (m.error && (m.covered_to != Hash{} || !m.entries.empty())) return tl::unexpected{WireError::kMalformed};
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

Bytes encode(const GetItems& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    rlp::encode(p, ByteView{m.region_first.data(), m.region_first.size()});
    rlp::encode(p, m.region_bits);
    rlp::encode(p, m.from_block);
    rlp::encode(p, m.to_block);
    rlp::encode(p, m.max_size);
    return frame_of(MessageType::kGetItems, p);
}

Bytes encode(const Items& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    encode_error(p, m.error);
    encode_string_list(p, m.items);
    return frame_of(MessageType::kItems, p);
}

WireResult<GetItems> decode_get_items(ByteView frame) {
    auto body = body_of(frame, MessageType::kGetItems);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    auto fields = fields_of<uint64_t, Hash, uint64_t, uint64_t, uint64_t, uint64_t>(in);
    if (!fields) return tl::unexpected{fields.error()};
    GetItems m;
    std::tie(m.request_id, m.region_first, m.region_bits, m.from_block, m.to_block, m.max_size) = *fields;
    if (m.region_bits > 256 || m.to_block < m.from_block) return tl::unexpected{WireError::kMalformed};
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

WireResult<Items> decode_items(ByteView frame) {
    auto body = body_of(frame, MessageType::kItems);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    Items m;
    auto id = uint_of(in);
    if (!id) return tl::unexpected{id.error()};
    m.request_id = *id;
    auto error = error_of(in);
    if (!error) return tl::unexpected{error.error()};
    m.error = *error;
    auto items = strings_of(in, kMaxItemsPerAnswer, kMaxContentSize);
    if (!items) return tl::unexpected{items.error()};
    m.items = std::move(*items);
    for (const Bytes& item : m.items) {
        if (item.empty()) return tl::unexpected{WireError::kMalformed};
    }
    if (m.error && !m.items.empty()) return tl::unexpected{WireError::kMalformed};
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

}  // namespace carousel::proto
