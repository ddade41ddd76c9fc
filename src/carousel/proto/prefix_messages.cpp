// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "prefix_messages.hpp"

#include <vector>

#include <carousel/core/rlp.hpp>

#include "wire_codec.hpp"

namespace carousel::proto {

std::string_view to_string(WireError e) noexcept {
    switch (e) {
        case WireError::kEmptyFrame:
            return "empty frame";
        case WireError::kUnknownType:
            return "unknown message type";
        case WireError::kMalformed:
            return "malformed message";
        case WireError::kTooLarge:
            return "message exceeds a size cap";
        case WireError::kBadPrefix:
            return "malformed prefix or stop path";
        case WireError::kOddRange:
            return "range request with an odd number of prefixes";
        case WireError::kUnknownFlag:
            return "unknown flag bits";
        case WireError::kBadErrorCode:
            return "unknown error code";
    }
    return "unknown wire error";
}

namespace {

using namespace wire;  // NOLINT(google-build-using-namespace): the codec helpers

// The error item of an entry: [code, data].
uint64_t error_code(const ChunkEntry& e) noexcept { return static_cast<uint8_t>(*e.error); }
std::size_t error_payload(const ChunkEntry& e) noexcept {
    return rlp::length(error_code(e)) + rlp::length(ByteView{e.error_data});
}

// The keys of a leaf entry travel as one string of 32-byte keys.
std::size_t keys_length(const ChunkEntry& e) noexcept {
    const std::size_t n = 32 * e.keys.size();
    return rlp::header_length(n) + n;  // never one byte long, so never its own encoding
}

std::size_t stop_length(const ChunkEntry& e) { return e.stop_path ? path_length(*e.stop_path) : 1; }

// Payload length of an entry's list: encode_entry writes in place, so a chunk's megabytes are
// copied once, and encoded_size costs no encoding.
std::size_t entry_payload(const ChunkEntry& e) {
    std::size_t n = path_length(e.prefix);
    if (e.error) return n + list_length(error_payload(e));
    if (e.leaf_mode) {
        return n + keys_length(e) + list_length(string_list_payload(e.values)) +
               list_length(string_list_payload(e.proof)) + stop_length(e);
    }
    return n + list_length(string_list_payload(e.nodes)) + stop_length(e);
}

void encode_stop(Bytes& out, const ChunkEntry& e) {
    if (e.stop_path) {
        encode_path(out, *e.stop_path);
    } else {
        out.push_back(0x80);
    }
}

// `payload` is entry_payload(e).
void encode_entry(Bytes& out, const ChunkEntry& e, std::size_t payload) {
    rlp::encode_header(out, {true, payload});
    encode_path(out, e.prefix);
    if (e.error) {
        rlp::encode_header(out, {true, error_payload(e)});
        rlp::encode(out, error_code(e));
        rlp::encode(out, ByteView{e.error_data});
    } else if (e.leaf_mode) {
        rlp::encode_header(out, {false, 32 * e.keys.size()});
        for (const Hash& k : e.keys) out.append(k.data(), k.size());
        encode_string_list(out, e.values);
        encode_string_list(out, e.proof);
        encode_stop(out, e);
    } else {
        encode_string_list(out, e.nodes);
        encode_stop(out, e);
    }
}

R<ChunkEntry> decode_entry(ByteView in) {
    ChunkEntry e;
    const std::size_t items = count_items(in);
    auto prefix = path_of(in);
    if (!prefix) return tl::unexpected{prefix.error()};
    e.prefix = std::move(*prefix);
    if (items == 2) {
        auto err = list_of(in);
        if (!err) return tl::unexpected{err.error()};
        ByteView ev = *err;
        auto code = uint_of(ev);
        if (!code) return tl::unexpected{code.error()};
        if (*code != 0x0 && *code != 0x1 && *code != 0x2 && *code != 0x4) {
            return tl::unexpected{WireError::kBadErrorCode};
        }
        e.error = static_cast<ChunkError>(*code);
        auto data = string_of(ev);
        if (!data) return tl::unexpected{data.error()};
        if (data->size() > 32) return tl::unexpected{WireError::kTooLarge};
        e.error_data = Bytes{*data};
        if (auto r = must_be_empty(ev); !r) return tl::unexpected{r.error()};
    } else if (items == 3) {
        auto nodes = strings_of(in, kMaxNodesPerEntry, kMaxFrameSize);
        if (!nodes) return tl::unexpected{nodes.error()};
        e.nodes = std::move(*nodes);
        auto stop = optional_path_of(in);
        if (!stop) return tl::unexpected{stop.error()};
        e.stop_path = std::move(*stop);
    } else if (items == 5) {
        e.leaf_mode = true;
        auto keys = string_of(in);
        if (!keys) return tl::unexpected{keys.error()};
        if (keys->size() % 32 != 0) return tl::unexpected{WireError::kMalformed};
        if (keys->size() / 32 > kMaxLeavesPerEntry) return tl::unexpected{WireError::kTooLarge};
        e.keys.resize(keys->size() / 32);
        for (std::size_t i = 0; i < e.keys.size(); ++i) std::memcpy(e.keys[i].data(), keys->data() + 32 * i, 32);
        auto values = strings_of(in, kMaxLeavesPerEntry, kMaxFrameSize);
        if (!values) return tl::unexpected{values.error()};
        if (values->size() != e.keys.size()) return tl::unexpected{WireError::kMalformed};
        e.values = std::move(*values);
        auto proof = strings_of(in, kMaxProofNodesPerEntry, kMaxFrameSize);
        if (!proof) return tl::unexpected{proof.error()};
        e.proof = std::move(*proof);
        auto stop = optional_path_of(in);
        if (!stop) return tl::unexpected{stop.error()};
        e.stop_path = std::move(*stop);
    } else {
        return tl::unexpected{WireError::kMalformed};
    }
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return e;
}

}  // namespace

Bytes encode(const GetChunks& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    rlp::encode(p, view(m.root));
    if (m.account) {
        rlp::encode(p, view(*m.account));
    } else {
        p.push_back(0x80);
    }
    Bytes prefixes;
    for (const auto& pre : m.prefixes) encode_path(prefixes, pre);
    wrap_list(p, prefixes);
    rlp::encode(p, uint64_t{m.is_range ? 1U : 0U});
    rlp::encode(p, m.max_size);
    rlp::encode(p, m.flags);
    return frame_of(MessageType::kGetChunks, p);
}

Bytes encode(const ChunkData& m) {
    std::vector<std::size_t> payloads;
    payloads.reserve(m.entries.size());
    std::size_t entries = 0;
    for (const auto& e : m.entries) {
        payloads.push_back(entry_payload(e));
        entries += list_length(payloads.back());
    }
    const std::size_t body = rlp::length(m.request_id) + list_length(entries);
    Bytes out;
    out.reserve(1 + list_length(body));
    out.push_back(static_cast<uint8_t>(MessageType::kChunkData));
    rlp::encode_header(out, {true, body});
    rlp::encode(out, m.request_id);
    rlp::encode_header(out, {true, entries});
    for (std::size_t i = 0; i < m.entries.size(); ++i) encode_entry(out, m.entries[i], payloads[i]);
    return out;
}

Bytes encode(const GetCode& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    Bytes hashes;
    for (const auto& h : m.hashes) rlp::encode(hashes, view(h));
    wrap_list(p, hashes);
    rlp::encode(p, m.max_size);
    return frame_of(MessageType::kGetCode, p);
}

Bytes encode(const CodeData& m) {
    Bytes p;
    rlp::encode(p, m.request_id);
    encode_string_list(p, m.codes);
    return frame_of(MessageType::kCodeData, p);
}

std::size_t encoded_size(const ChunkEntry& e) { return list_length(entry_payload(e)); }

WireResult<MessageType> frame_type(ByteView frame) {
    if (frame.empty()) return tl::unexpected{WireError::kEmptyFrame};
    switch (frame[0]) {
        case static_cast<uint8_t>(MessageType::kGetChunks):
        case static_cast<uint8_t>(MessageType::kChunkData):
        case static_cast<uint8_t>(MessageType::kGetCode):
        case static_cast<uint8_t>(MessageType::kCodeData):
            return static_cast<MessageType>(frame[0]);
        default:
            return tl::unexpected{WireError::kUnknownType};
    }
}

WireResult<GetChunks> decode_get_chunks(ByteView frame) {
    auto body = body_of(frame, MessageType::kGetChunks);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    auto head = fields_of<uint64_t, Hash, ByteView, rlp::List>(in);
    if (!head) return tl::unexpected{head.error()};
    const auto& [id, root, account, prefixes] = *head;
    GetChunks m;
    m.request_id = id;
    m.root = root;
    if (account.size() == 32) {
        m.account = to_hash(account);
    } else if (!account.empty()) {
        return tl::unexpected{WireError::kMalformed};
    }
    for (ByteView p = prefixes.payload; !p.empty();) {
        if (m.prefixes.size() >= kMaxPrefixesPerRequest) return tl::unexpected{WireError::kTooLarge};
        auto pre = path_of(p);
        if (!pre) return tl::unexpected{pre.error()};
        m.prefixes.push_back(std::move(*pre));
    }
    auto is_range = uint_of(in);
    if (!is_range) return tl::unexpected{is_range.error()};
    if (*is_range > 1) return tl::unexpected{WireError::kMalformed};
    m.is_range = *is_range == 1;
    if (m.is_range && m.prefixes.size() % 2 != 0) return tl::unexpected{WireError::kOddRange};
    auto tail = fields_of<uint64_t, uint64_t>(in);
    if (!tail) return tl::unexpected{tail.error()};
    std::tie(m.max_size, m.flags) = *tail;
    if ((m.flags & ~kKnownFlags) != 0) return tl::unexpected{WireError::kUnknownFlag};
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

WireResult<ChunkData> decode_chunk_data(ByteView frame) {
    auto body = body_of(frame, MessageType::kChunkData);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    auto head = fields_of<uint64_t, rlp::List>(in);
    if (!head) return tl::unexpected{head.error()};
    ChunkData m;
    m.request_id = std::get<0>(*head);
    for (ByteView p = std::get<1>(*head).payload; !p.empty();) {
        if (m.entries.size() >= kMaxPrefixesPerRequest) return tl::unexpected{WireError::kTooLarge};
        auto entry = list_of(p);
        if (!entry) return tl::unexpected{entry.error()};
        auto e = decode_entry(*entry);
        if (!e) return tl::unexpected{e.error()};
        m.entries.push_back(std::move(*e));
    }
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

WireResult<GetCode> decode_get_code(ByteView frame) {
    auto body = body_of(frame, MessageType::kGetCode);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    auto head = fields_of<uint64_t, rlp::List>(in);
    if (!head) return tl::unexpected{head.error()};
    GetCode m;
    m.request_id = std::get<0>(*head);
    for (ByteView p = std::get<1>(*head).payload; !p.empty();) {
        if (m.hashes.size() >= kMaxCodeHashes) return tl::unexpected{WireError::kTooLarge};
        auto h = hash_of(p);
        if (!h) return tl::unexpected{h.error()};
        m.hashes.push_back(*h);
    }
    auto max_size = uint_of(in);
    if (!max_size) return tl::unexpected{max_size.error()};
    m.max_size = *max_size;
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

WireResult<CodeData> decode_code_data(ByteView frame) {
    auto body = body_of(frame, MessageType::kCodeData);
    if (!body) return tl::unexpected{body.error()};
    ByteView in = *body;
    CodeData m;
    auto id = uint_of(in);
    if (!id) return tl::unexpected{id.error()};
    m.request_id = *id;
    auto codes = strings_of(in, kMaxCodeHashes, kMaxCodeSize);
    if (!codes) return tl::unexpected{codes.error()};
    m.codes = std::move(*codes);
    if (auto r = must_be_empty(in); !r) return tl::unexpected{r.error()};
    return m;
}

}  // namespace carousel::proto
