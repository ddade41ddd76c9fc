// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// libFuzzer harness (scripts/fuzz.sh, `make fuzz`): the two prefix-sync cores on peer bytes.
//  - first byte even: a ChunkServer over a small generated state takes the input's frames as
//    requests from one peer;
//  - odd: a PrefixSync (bit 1: leaf mode, bit 2: streaming) asks its first requests, gets real
//    answers, then the input's frames in place of the next answers, then real answers again and a
//    timer far ahead.
// Frames are cut from the input as [2-byte big-endian length][bytes]. Any crash or sanitizer
// report is a finding. The state is small (fuzz_util.hpp) and the client's real answers are
// served once per distinct request and kept (World::answer).
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

#include <carousel/core/keccak.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/prefix/prefix_sync.hpp>
#include <carousel/state/chain_generator.hpp>

#include "fuzz_util.hpp"

using namespace carousel;

namespace {
struct World {
    trie::MemoryNodeStore nodes;
    state::MemoryCodeStore code;
    std::unique_ptr<state::ChainGenerator> gen;
    Hash root{};
    // The client's real answers: a server answers a request the same whenever it comes (no rate
    // limit here), so each distinct request is served once and its answer frames kept (up to
    // kMaxCached requests): the server's code then runs for new requests only.
    static constexpr std::size_t kMaxCached = std::size_t{1} << 15;
    std::unique_ptr<prefix::ChunkServer> server;
    std::map<Bytes, std::vector<Bytes>> answers;
    World() {
        gen = std::make_unique<state::ChainGenerator>(fuzz::sync_world_config(), nodes, code);
        (void)gen->genesis();
        (void)gen->next_block();
        root = gen->root();
        prefix::ServerOptions unlimited;
        unlimited.requests_per_second = 1e18;
        unlimited.burst = 1e18;
        server = std::make_unique<prefix::ChunkServer>(
            nodes, &code, [r = root] { return r; }, unlimited);
    }

    std::vector<Bytes> answer(ByteView request, proto::Time now) {
        const auto it = answers.find(Bytes{request});
        if (it != answers.end()) return it->second;
        server->on_frame(5, request, now);
        std::vector<Bytes> out;
        for (auto& a : server->take_outbox()) out.push_back(std::move(a.frame));
        (void)server->take_disconnects();
        if (answers.size() < kMaxCached) answers.emplace(Bytes{request}, out);
        return out;
    }
};
World& world() {
    static World w;
    return w;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    World& w = world();
    if (size < 1) return 0;
    const bool client = (data[0] & 1) != 0;
    ByteView in{data + 1, size - 1};
    std::vector<ByteView> frames;
    while (in.size() >= 2) {
        const std::size_t n = std::min<std::size_t>(in.size() - 2, (std::size_t{in[0]} << 8) | in[1]);
        frames.push_back(in.substr(2, n));
        in.remove_prefix(2 + n);
    }
    const proto::Time t0{std::chrono::seconds{1}};
    if (!client) {
        const Hash root = w.root;
        prefix::ChunkServer server{w.nodes, &w.code, [root] { return root; }};
        for (ByteView f : frames) {
            server.on_frame(7, f, t0);
            (void)server.take_outbox();
            (void)server.take_disconnects();
        }
        return 0;
    }
    trie::MemoryNodeStore nodes;
    state::MemoryCodeStore code;
    prefix::PrefixSyncOptions o;
    o.leaf_mode = (data[0] & 2) != 0;
    o.stream = (data[0] & 4) != 0;
    o.max_response_bytes = 2048;
    prefix::PrefixSync sync{nodes, code, w.root, o, [&w](const Hash& r) { return r == w.root; }};
    sync.on_connect(5, t0);
    // Real answers to the first requests, then the fuzzed frames, then real answers again.
    for (int round = 0; round < 3; ++round) {
        for (auto& f : sync.take_outbox()) {
            if (round == 1) continue;  // the fuzzed frames stand in for these answers
            for (const Bytes& a : w.answer(f.frame, t0)) sync.on_frame(5, a, t0);
        }
        if (round == 1) {
            for (ByteView f : frames) sync.on_frame(5, f, t0);
        }
    }
    sync.on_timer(t0 + std::chrono::seconds{100});
    (void)sync.take_outbox();
    (void)sync.progress();
    return 0;
}
