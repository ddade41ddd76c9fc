// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "chunk_server.hpp"

#include <algorithm>
#include <deque>
#include <optional>

#include <carousel/core/keccak.hpp>
#include <carousel/core/nibbles.hpp>
#include <carousel/core/rlp.hpp>
#include <carousel/trie/node.hpp>
#include <carousel/trie/node_walker.hpp>
#include <carousel/trie/path_range.hpp>
#include <carousel/trie/trie.hpp>

namespace carousel::prefix {
namespace {

using proto::ChunkEntry;
using proto::ChunkError;

ChunkEntry error_entry(Nibbles prefix, ChunkError code, Bytes data = {}) {
    ChunkEntry e;
    e.prefix = std::move(prefix);
    e.error = code;
    e.error_data = std::move(data);
    return e;
}

// Full sub-trie mode: the nodes of one range in pre-order, from a walk bounded by the range (the
// stem, then the range; nodes by position from the path layout when the server has one, so the range
// is one scan and the stem a few seeks, else by hash). Sends the hashed nodes: the stem's unless
// `skip_stem`, then the range's until `budget`, where entry.stop_path is the first node left out.
// False if a node is missing or does not decode (the chunk is unavailable).
bool send_nodes(trie::NodeWalker& walk, const trie::PathRange& range, bool skip_stem, std::size_t budget,
                ChunkEntry& entry) {
    std::size_t size = 0;
    std::size_t emitted = 0;  // nodes in the range (not stem)
    while (walk.next()) {
        if (!trie::is_hash_reference(walk.ref())) continue;
        const ByteView rlp = walk.rlp();
        if (!trie::is_proper_prefix(walk.path(), range.from)) {
            if (emitted > 0 && size + rlp.size() > budget) {
                entry.stop_path = Nibbles{walk.path()};
                return true;
            }
            ++emitted;
        } else if (skip_stem) {
            continue;
        }
        size += rlp.size();
        entry.nodes.emplace_back(rlp);
    }
    return walk.error() == trie::NodeWalker::Error::kNone;
}

// Leaf mode: the leaves with keys in [origin, limit] in key order, from the same bounded walk, until
// `budget`; `stop` is then the first key left out. False if a node is missing or does not decode.
bool send_leaves(trie::NodeWalker& walk, ByteView origin, ByteView limit, std::size_t budget, ChunkEntry& entry,
                 std::optional<Bytes>& stop) {
    std::size_t size = 0;
    Nibbles key_nibbles;
    while (walk.next()) {
        const trie::Node* node = walk.node();
        if (node == nullptr) return false;  // a stored node that does not decode: the chunk is unavailable
        if (node->kind != trie::NodeKind::kLeaf) continue;
        key_nibbles.assign(walk.path());
        key_nibbles += node->path;
        if (key_nibbles.size() != trie::kKeyNibbles) continue;
        const Bytes key = pack_nibbles(key_nibbles);
        if (ByteView{key}.compare(origin) < 0) continue;
        if (ByteView{key}.compare(limit) > 0) return true;
        const std::size_t item = key.size() + node->value.size() + 3;
        if (!entry.keys.empty() && size + item > budget) {
            stop = key;
            return true;
        }
        size += item;
        entry.keys.push_back(to_hash(key));
        entry.values.emplace_back(node->value);
    }
    return walk.error() == trie::NodeWalker::Error::kNone;
}

// With a path layout, the whole trie under `cursor` in one scan, if its nodes fit in `budget` (a
// storage trie, mostly): positions and RLPs in position order. False if it does not fit.
bool load_whole(trie::PathCursor& cursor, std::size_t budget, std::vector<std::pair<Nibbles, Bytes>>& out) {
    std::size_t size = 0;
    ByteView pos, rlp;
    while (cursor.next(pos, rlp)) {
        size += rlp.size();
        if (size > budget) return false;
        out.emplace_back(Nibbles{pos}, Bytes{rlp});
    }
    return cursor.ok();
}

// The seed's `0x0` request: the trie level by level from the root, as deep as maxSize allows.
// Nodes come by hash from `nodes`, or from `whole` (load_whole's nodes of the trie) when given.
void serve_top(const trie::NodeStore& nodes, const std::vector<std::pair<Nibbles, Bytes>>* whole, const Hash& root,
               std::size_t budget, ChunkEntry& entry) {
    struct Item {
        Bytes ref;
        Nibbles pos;
    };
    const auto from_whole = [&](const Nibbles& pos, Bytes& out) {
        auto it = std::lower_bound(whole->begin(), whole->end(), pos,
                                   [](const auto& e, const Nibbles& p) { return e.first < p; });
        if (it == whole->end() || it->first != pos) return false;
        out = it->second;
        return true;
    };
    std::vector<Item> level{{Bytes{view(root)}, {}}};
    std::size_t size = 0;
    while (!level.empty()) {
        std::vector<Bytes> rlps;
        std::size_t level_size = 0;
        std::vector<Item> next;
        for (const Item& it : level) {
            Bytes rlp = it.ref;
            if (it.ref.size() == 32) {
                const bool got =
                    whole != nullptr ? from_whole(it.pos, rlp) : nodes.read_node(to_hash(it.ref), rlp).value_or(false);
                if (!got) {
                    entry = error_entry({}, ChunkError::kNoChunk);
                    return;
                }
                level_size += rlp.size();
                if (!entry.nodes.empty() && size + level_size > budget) {
                    // The level does not fit, and a level goes whole or not at all: the rest of it is
                    // not read (a big trie's next level has thousands of nodes, each a point read).
                    entry.stop_path = level.front().pos;
                    return;
                }
                rlps.push_back(rlp);
            }
            auto node = trie::decode_node(rlp);
            if (!node) {
                entry = error_entry({}, ChunkError::kNoChunk);
                return;
            }
            if (node->kind == trie::NodeKind::kExtension) {
                next.push_back({Bytes{node->children[0]}, it.pos + node->path});
            } else if (node->kind == trie::NodeKind::kBranch) {
                for (uint8_t i = 0; i < 16; ++i) {
                    if (!node->children[i].empty()) next.push_back({Bytes{node->children[i]}, it.pos + Nibbles{i}});
                }
            }
        }
        size += level_size;
        for (auto& r : rlps) entry.nodes.push_back(std::move(r));
        level = std::move(next);
    }
}

}  // namespace

ChunkServer::ChunkServer(const trie::NodeStore& nodes, const state::CodeStore* code, std::function<Hash()> newest_root,
                         ServerOptions options)
    : nodes_{nodes}, code_{code}, newest_root_{std::move(newest_root)}, options_{options} {}

ChunkEntry ChunkServer::serve_entry(const proto::GetChunks& request, const trie::PathRange& range,
                                    std::size_t max_size) {
    ChunkEntry entry;
    entry.prefix = range.from;
    const bool leaves = (request.flags & proto::kFlagLeaves) != 0;
    if (request.root == trie::kEmptyRoot) {
        entry.leaf_mode = leaves;
        return entry;  // the empty trie: nothing to send, nothing to prove
    }
    if (!leaves) {
        if (!request.is_range && range.from.empty()) {
            // A trie that fits whole (a storage trie, mostly) is read in one scan of the layout.
            std::vector<std::pair<Nibbles, Bytes>> whole;
            std::unique_ptr<trie::PathCursor> cursor;
            if (paths_ != nullptr) cursor = paths_->open(request.root, {});
            const bool scanned = cursor != nullptr && load_whole(*cursor, max_size, whole);
            serve_top(nodes_, scanned ? &whole : nullptr, request.root, max_size, entry);
        } else {
            std::unique_ptr<trie::PathCursor> cursor;
            if (paths_ != nullptr) cursor = paths_->open(request.root, range.to);
            trie::NodeWalker walk{nodes_, cursor.get(), view(request.root), range};
            if (!send_nodes(walk, range, (request.flags & proto::kFlagSkipStem) != 0, max_size, entry)) {
                return error_entry(range.from, ChunkError::kNoChunk);
            }
        }
        stats_.nodes_sent += entry.nodes.size();
        return entry;
    }

    entry.leaf_mode = true;
    const Bytes origin = trie::range_min_key(range);
    const Bytes limit = trie::range_max_key(range);
    std::unique_ptr<trie::PathCursor> cursor;
    if (paths_ != nullptr) cursor = paths_->open(request.root, range.to);
    trie::NodeWalker walk{nodes_, cursor.get(), view(request.root), range};
    std::optional<Bytes> stop;
    if (!send_leaves(walk, origin, limit, max_size, entry, stop)) return error_entry(range.from, ChunkError::kNoChunk);
    if (!stop && range.from.empty() && range.to.empty()) {
        // The whole trie: its leaves prove themselves (they must hash to the root), no proof needed.
        stats_.leaves_sent += entry.keys.size();
        return entry;
    }
    std::vector<Bytes> edges{origin};
    edges.push_back(stop ? Bytes{view(entry.keys.back())} : limit);
    trie::ReadOnlyNodeStore ro{nodes_};
    trie::Trie t{&ro, request.root};
    auto proof = t.prove(edges);
    if (!proof) return error_entry(range.from, ChunkError::kNoChunk);
    entry.proof = std::move(*proof);
    if (stop) entry.stop_path = unpack_nibbles(*stop);
    stats_.leaves_sent += entry.keys.size();
    return entry;
}

proto::ChunkData ChunkServer::serve(const proto::GetChunks& request) {
    ++stats_.requests;
    proto::ChunkData out;
    out.request_id = request.request_id;
    std::vector<trie::PathRange> ranges;
    bool invalid = request.max_size == 0;
    if (request.is_range) {
        for (std::size_t i = 0; i + 1 < request.prefixes.size(); i += 2) {
            ranges.push_back({request.prefixes[i], request.prefixes[i + 1]});
            if (trie::pad(ranges.back().from, 0) > trie::pad(ranges.back().to, 0xf)) invalid = true;
        }
    } else {
        for (const auto& p : request.prefixes) ranges.push_back({p, p});
    }
    // Whether the store has the root: an entry served from it says yes (every walk reads the root
    // first), so the store is asked only when the first entry fails (a point read per request was
    // a sixth of a server's work in a sync of many small storage tries).
    std::optional<bool> root_known;
    if (request.root == trie::kEmptyRoot) root_known = true;
    const auto unknown_root = [&](const Nibbles& prefix) {
        return error_entry(prefix, ChunkError::kUnknownRoot, Bytes{view(newest_root_())});
    };
    std::size_t budget = std::min<std::size_t>(request.max_size, options_.max_response_bytes);
    for (const auto& range : ranges) {
        ChunkEntry e;
        if (invalid) {
            e = error_entry(range.from, ChunkError::kInvalidRequest);
        } else if (root_known == false) {
            e = unknown_root(range.from);
        } else if (budget == 0) {
            e.prefix = range.from;  // out of room in this response: nothing sent, resume at the start
            e.leaf_mode = (request.flags & proto::kFlagLeaves) != 0;
            e.stop_path = range.from;
        } else {
            e = serve_entry(request, range, budget);
            if (!root_known) {
                root_known =
                    !(e.error && *e.error == ChunkError::kNoChunk) || nodes_.get_node(request.root).has_value();
                if (!*root_known) e = unknown_root(range.from);
            }
            const std::size_t used = proto::encoded_size(e);
            budget = used >= budget ? 0 : budget - used;
        }
        count(e);
        ++stats_.entries;
        out.entries.push_back(std::move(e));
    }
    return out;
}

proto::CodeData ChunkServer::serve(const proto::GetCode& request) {
    proto::CodeData out;
    out.request_id = request.request_id;
    std::size_t size = 0;
    const std::size_t budget = std::min<std::size_t>(request.max_size, options_.max_response_bytes);
    for (const Hash& h : request.hashes) {
        if (code_ == nullptr) break;
        auto c = code_->get_code(h);
        if (!c) continue;  // snap's rule: unavailable code is skipped; the client hashes what it gets
        if (!out.codes.empty() && size + c->size() > budget) break;
        size += c->size();
        out.codes.push_back(std::move(*c));
    }
    return out;
}

bool ChunkServer::admit(proto::PeerId peer, proto::Time now) {
    auto [it, fresh] = buckets_.try_emplace(peer);
    Bucket& b = it->second;
    if (fresh) {
        b.tokens = options_.burst;
        b.last = now;
    }
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(options_.burst, b.tokens + elapsed * options_.requests_per_second);
    b.last = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

void ChunkServer::on_disconnect(proto::PeerId peer, proto::Time) { buckets_.erase(peer); }

namespace {
// The request id of a frame that failed to decode, if its body starts as a list with an integer.
std::optional<uint64_t> peek_request_id(ByteView frame) {
    if (frame.size() < 2) return std::nullopt;
    ByteView body = frame.substr(1);
    auto list = rlp::decode_list(body);
    if (!list) return std::nullopt;
    ByteView items = *list;
    auto id = rlp::decode_uint64(items);
    if (!id) return std::nullopt;
    return *id;
}
}  // namespace

void ChunkServer::on_frame(proto::PeerId from, ByteView frame, proto::Time now) {
    auto type = proto::frame_type(frame);
    if (!type) {
        drop(from, "unknown message type");
        return;
    }
    if (*type == proto::MessageType::kGetChunks) {
        auto request = proto::decode_get_chunks(frame);
        if (!request) {
            auto id = peek_request_id(frame);
            if (!id) {
                drop(from, std::string{"undecodable GetChunks: "} + std::string{proto::to_string(request.error())});
                return;
            }
            proto::ChunkData out;
            out.request_id = *id;
            out.entries.push_back(error_entry({}, ChunkError::kInvalidRequest));
            count(out.entries.back());
            send(from, proto::encode(out));
            return;
        }
        if (!admit(from, now)) {
            proto::ChunkData out;
            out.request_id = request->request_id;
            for (std::size_t i = 0; i < (request->is_range ? request->prefixes.size() / 2 : request->prefixes.size());
                 ++i) {
                out.entries.push_back(
                    error_entry(request->prefixes[request->is_range ? 2 * i : i], ChunkError::kBackOff));
                count(out.entries.back());
            }
            send(from, proto::encode(out));
            return;
        }
        proto::ChunkData out = serve(*request);
        Bytes encoded = proto::encode(out);
        stats_.bytes_sent += encoded.size();
        send(from, std::move(encoded));
        // Streaming: keep sending each cut entry's continuation until it is complete, or until the
        // request's stream budget is spent: then each unfinished entry ends with 0x2 at its stop
        // path, and the client asks again from there.
        if ((request->flags & proto::kFlagStream) != 0) {
            std::size_t streamed = 0;
            for (const auto& e : out.entries) {
                std::optional<Nibbles> stop = e.stop_path;
                const std::size_t index = static_cast<std::size_t>(&e - out.entries.data());
                const Nibbles to = request->is_range ? request->prefixes[2 * index + 1] : request->prefixes[index];
                while (stop && !e.error) {
                    if (streamed >= options_.max_stream_bytes) {
                        proto::ChunkData end;
                        end.request_id = request->request_id;
                        end.entries.push_back(error_entry(*stop, ChunkError::kBackOff));
                        count(end.entries.back());
                        send(from, proto::encode(end));
                        break;
                    }
                    proto::GetChunks next = *request;
                    next.is_range = true;
                    next.prefixes = {*stop, to};
                    next.flags |= proto::kFlagSkipStem;
                    proto::ChunkData more = serve(next);
                    stop = more.entries.empty() || more.entries[0].error ? std::nullopt : more.entries[0].stop_path;
                    Bytes enc = proto::encode(more);
                    stats_.bytes_sent += enc.size();
                    streamed += enc.size();
                    send(from, std::move(enc));
                }
            }
        }
        return;
    }
    if (*type == proto::MessageType::kGetCode) {
        auto request = proto::decode_get_code(frame);
        if (!request) {
            drop(from, std::string{"undecodable GetCode: "} + std::string{proto::to_string(request.error())});
            return;
        }
        ++stats_.code_answers;
        if (!admit(from, now)) {
            ++stats_.code_back_off;
            send(from, proto::encode(proto::CodeData{request->request_id, {}}));
            return;
        }
        Bytes encoded = proto::encode(serve(*request));
        stats_.bytes_sent += encoded.size();
        send(from, std::move(encoded));
        return;
    }
    drop(from, "unexpected message for a chunk server");
}

void ChunkServer::count(const proto::ChunkEntry& entry) noexcept {
    if (!entry.error) {
        ++stats_.data_entries;
        return;
    }
    switch (*entry.error) {
        case ChunkError::kUnknownRoot:
            ++stats_.unknown_root;
            break;
        case ChunkError::kNoChunk:
            ++stats_.no_chunk;
            break;
        case ChunkError::kBackOff:
            ++stats_.back_off;
            break;
        case ChunkError::kInvalidRequest:
            ++stats_.invalid;
            break;
    }
}

void ChunkServer::drop(proto::PeerId peer, std::string reason) {
    ++stats_.peers_dropped;
    disconnect(peer, std::move(reason));
}

std::string describe(const ServerStats& s) {
    return std::to_string(s.requests) + " requests; entries: " + std::to_string(s.data_entries) + " with data, " +
           std::to_string(s.unknown_root) + " 0x0 unknown root, " + std::to_string(s.no_chunk) + " 0x1 no chunk, " +
           std::to_string(s.back_off) + " 0x2 back-off, " + std::to_string(s.invalid) + " 0x4 invalid; " +
           std::to_string(s.code_answers) + " code answers (" + std::to_string(s.code_back_off) + " backed off); " +
           std::to_string(s.peers_dropped) + " peers dropped for bad frames; " + std::to_string(s.nodes_sent) +
           " nodes and " + std::to_string(s.leaves_sent) + " leaves sent, " + std::to_string(s.bytes_sent) + " bytes";
}

}  // namespace carousel::prefix
