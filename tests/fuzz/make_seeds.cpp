// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Writes seed inputs for wire_fuzz into the directory given as argument: real encodings of the
// messages a ChunkServer sends and takes, trie nodes and a state diff, each behind the selector
// byte of the wire_fuzz target it is for.
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <carousel/core/keccak.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/state/state_diff.hpp>
#include <carousel/proto/mgr_messages.hpp>
#include <carousel/trie/trie.hpp>
using namespace carousel;
namespace {
std::string dir;
int n = 0;
void put(uint8_t sel, const Bytes& b) {
    std::ofstream f(dir + "/seed-" + std::to_string(n++), std::ios::binary);
    f.put(static_cast<char>(sel));
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds DIR\n");
        return 1;
    }
    dir = argv[1];
    trie::MemoryNodeStore nodes;
    state::MemoryCodeStore code;
    state::GeneratorConfig cfg;
    cfg.seed = 1; cfg.accounts = 300; cfg.max_contract_slots = 50; cfg.accounts_per_block = 5; cfg.slots_per_block = 8;
    state::ChainGenerator gen{cfg, nodes, code};
    (void)gen.genesis();
    auto b1 = gen.next_block();
    if (b1) put(2, state::encode_state_diff(*b1));
    const Hash root = gen.root();
    prefix::ChunkServer server{nodes, &code, [root] { return root; }};
    for (uint64_t flags : {uint64_t{0}, proto::kFlagLeaves, proto::kFlagSkipStem}) {
        for (std::size_t max : {std::size_t{300}, std::size_t{3000}}) {
            proto::GetChunks g{7, root, std::nullopt, {Nibbles{3}, Nibbles{3, 9}}, true, max, flags};
            put(0, proto::encode(g));
            auto d = server.serve(g);
            put(0, proto::encode(d));
            put(5, proto::encode(d));
            put(6, proto::encode(d));
            proto::GetChunks p{8, root, std::nullopt, {Nibbles{}, Nibbles{1}}, false, max, flags};
            auto d2 = server.serve(p);
            put(7, proto::encode(d2));
            for (const auto& e : d2.entries) for (const auto& node : e.nodes) put(1, node);
        }
    }
    put(0, proto::encode(proto::GetCode{1, {keccak256(Bytes{1})}, 100}));
    put(0, proto::encode(proto::CodeData{1, {Bytes{1, 2, 3}}}));
    put(0, proto::encode(proto::GetDiff{3, root, root, Nibbles{1}, Nibbles{2}}));
    return 0;
}
