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
// report is a finding. The state is small (fuzz_world.hpp) and the first round's answers, the same
// for every input of a mode, are served once and kept.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

#include <carousel/core/keccak.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/prefix/prefix_sync.hpp>
#include <carousel/state/chain_generator.hpp>

#include "fuzz_world.hpp"

using namespace carousel;

namespace {
struct World {
    trie::MemoryNodeStore nodes;
    state::MemoryCodeStore code;
    std::unique_ptr<state::ChainGenerator> gen;
    Hash root{};
    std::map<uint8_t, std::vector<Bytes>> first_answers;  // by client mode (the selector's bits 1-2)
    World() {
        gen = std::make_unique<state::ChainGenerator>(fuzz::sync_world_config(), nodes, code);
        (void)gen->genesis();
        (void)gen->next_block();
        root = gen->root();
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
    prefix::SyncOptions o;
    o.leaf_mode = (data[0] & 2) != 0;
    o.stream = (data[0] & 4) != 0;
    o.max_response_bytes = 2048;
    prefix::PrefixSync sync{nodes, code, w.root, o, [&w](const Hash& r) { return r == w.root; }};
    sync.on_connect(5, t0);
    const Hash root = w.root;
    prefix::ChunkServer server{w.nodes, &w.code, [root] { return root; }};
    // Real answers to the first requests (the same for every input of this mode: served once), then
    // the fuzzed frames, then real answers again.
    const uint8_t mode = data[0] & 6;
    auto cached = w.first_answers.find(mode);
    if (cached == w.first_answers.end()) {
        std::vector<Bytes> answers;
        for (auto& f : sync.take_outbox()) {
            server.on_frame(5, f.frame, t0);
            for (auto& a : server.take_outbox()) answers.push_back(std::move(a.frame));
        }
        cached = w.first_answers.emplace(mode, std::move(answers)).first;
    }
    (void)sync.take_outbox();
    for (const Bytes& a : cached->second) sync.on_frame(5, a, t0);
    for (int round = 1; round < 3; ++round) {
        for (auto& f : sync.take_outbox()) {
            if (round == 1) continue;  // the fuzzed frames stand in for these answers
            server.on_frame(5, f.frame, t0);
            for (auto& a : server.take_outbox()) sync.on_frame(5, a.frame, t0);
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
