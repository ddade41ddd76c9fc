// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// Writes seed inputs into DIR/<harness>/ (tests/fuzz/corpus/ holds what it wrote): for wire_fuzz real
// encodings of the messages a ChunkServer sends and takes, trie nodes and a state diff, each behind
// the selector byte of the target it is for; for sync_fuzz the real answers a PrefixSync gets in the
// round the fuzzer replaces, in sync_fuzz's framing, for each client mode; for frame_fuzz streams of
// well-framed messages; for mgr_fuzz MGR requests from authenticated peers; for store_fuzz the
// untouched database and a few edits.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <carousel/core/keccak.hpp>
#include <carousel/dht/discovery_packet.hpp>
#include <carousel/dht/handshake.hpp>
#include <carousel/prefix/chunk_server.hpp>
#include <carousel/prefix/prefix_sync.hpp>
#include <carousel/proto/discovery_messages.hpp>
#include <carousel/proto/mgr_messages.hpp>
#include <carousel/state/chain_generator.hpp>
#include <carousel/state/state_diff.hpp>
#include <carousel/trie/trie.hpp>

#include "fuzz_util.hpp"
using namespace carousel;
namespace {
std::string dir;
int n = 0;
void put(uint8_t sel, const Bytes& b) {
    std::ofstream f(dir + "/seed-" + std::to_string(n++), std::ios::binary);
    f.put(static_cast<char>(sel));
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// sync_fuzz's input for client mode `mode` (an odd selector): the answers of its second round,
// each as [2-byte big-endian length][frame], as the harness would have got them.
void put_sync_seed(const std::string& sync_dir, uint8_t mode, trie::NodeStore& served, state::CodeStore& served_code,
                   const Hash& root) {
    trie::MemoryNodeStore nodes;
    state::MemoryCodeStore code;
    prefix::PrefixSyncOptions o;
    o.leaf_mode = (mode & 2) != 0;
    o.stream = (mode & 4) != 0;
    o.max_response_bytes = 2048;
    prefix::PrefixSync sync{nodes, code, root, o, [root](const Hash& r) { return r == root; }};
    const proto::Time t0{std::chrono::seconds{1}};
    sync.on_connect(5, t0);
    prefix::ChunkServer server{served, &served_code, [root] { return root; }};
    Bytes input(1, mode);
    for (int round = 0; round < 2; ++round) {
        for (auto& f : sync.take_outbox()) {
            server.on_frame(5, f.frame, t0);
            for (auto& a : server.take_outbox()) {
                if (round == 0) {
                    sync.on_frame(5, a.frame, t0);
                } else if (a.frame.size() <= 0xffff) {
                    input.push_back(static_cast<uint8_t>(a.frame.size() >> 8));
                    input.push_back(static_cast<uint8_t>(a.frame.size()));
                    input += a.frame;
                }
            }
        }
    }
    std::ofstream f(sync_dir + "/seed-mode" + std::to_string(mode), std::ios::binary);
    f.write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
}

void put_file(const std::string& path, const Bytes& b) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes be32(std::size_t n) {
    return {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
            static_cast<uint8_t>(n)};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds DIR   (writes DIR/<harness>/seed-*)\n");
        return 1;
    }
    const std::string root_dir = argv[1];
    for (const char* h : {"wire_fuzz", "sync_fuzz", "frame_fuzz", "mgr_fuzz", "store_fuzz"}) {
        std::filesystem::create_directories(root_dir + "/" + h);
    }
    dir = root_dir + "/wire_fuzz";
    const std::string sync_dir = root_dir + "/sync_fuzz";
    trie::MemoryNodeStore nodes;
    state::MemoryCodeStore code;
    state::ChainGenerator gen{fuzz::sync_world_config(), nodes, code};
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
            for (const auto& e : d2.entries)
                for (const auto& node : e.nodes) put(1, node);
        }
    }
    put(0, proto::encode(proto::GetCode{1, {keccak256(Bytes{1})}, 100}));
    put(0, proto::encode(proto::CodeData{1, {Bytes{1, 2, 3}}}));
    put(0, proto::encode(proto::GetDiff{3, root, root, Nibbles{1}, Nibbles{2}}));
    put(0, proto::encode(proto::GetItems{4, Hash{}, 254, 1, 8, 4096}));
    put(0, proto::encode(proto::Items{4, std::nullopt, {Bytes{0xc0}}}));
    for (uint8_t mode : {1, 3, 5}) put_sync_seed(sync_dir, mode, nodes, code, root);

    // frame_fuzz: [max selector][2 bytes of read-size seed] then a stream of framed messages.
    {
        Bytes stream{200, 0x12, 0x34};
        for (const Bytes& f :
             {proto::encode(proto::GetCode{1, {keccak256(Bytes{1})}, 100}),
              proto::encode(server.serve(proto::GetChunks{9, root, std::nullopt, {Nibbles{}}, false, 3000, 0}))}) {
            stream += be32(f.size()) + f;
        }
        put_file(root_dir + "/frame_fuzz/seed-frames", stream);
        put_file(root_dir + "/frame_fuzz/seed-small", Bytes{3, 0, 1, 0, 0, 0, 2, 0xaa, 0xbb, 0, 0, 1, 0});
    }
    // mgr_fuzz: [op: peer, connect][u16 length][frame].
    {
        Bytes in;
        auto add = [&](uint8_t op, const Bytes& f) {
            in.push_back(op);
            in.push_back(static_cast<uint8_t>(f.size() >> 8));
            in.push_back(static_cast<uint8_t>(f.size()));
            in += f;
        };
        add(4 | 16, proto::encode(proto::Offer{1, {keccak256(Bytes{7})}}));
        add(5, proto::encode(proto::GetChunks{3, root, std::nullopt, {Nibbles{4}}, false, 3000, proto::kFlagLeaves}));
        add(5, proto::encode(proto::GetCode{4, {keccak256(Bytes{1})}, 100}));
        add(6, proto::encode(proto::GetDiff{5, root, root, Nibbles{4}, Nibbles{5}}));
        add(6, proto::encode(proto::GetItems{6, Hash{}, 254, 1, 8, 4096}));
        put_file(root_dir + "/mgr_fuzz/seed-requests", in);
    }
    // store_fuzz: the database as written (read-only and not), and an overwrite of the first file.
    put_file(root_dir + "/store_fuzz/seed-untouched", Bytes{1});
    put_file(root_dir + "/store_fuzz/seed-untouched-rw", Bytes{0});
    put_file(root_dir + "/store_fuzz/seed-overwrite", Bytes{1, 0, 0, 0, 0, 0, 8, 2, 0xde, 0xad});

    // enr_fuzz: [target][input] for a record's encoding (0), its text form (1) and pairs to sign (2).
    // handshake_fuzz: [op: peer, connect, deliver, admit, expect, cut][u16 length][frame]: an honest
    // exchange, and a stranger's HELLO with an AUTH that passes (signed over the harness's first nonce:
    // kOurSecret 0x01 and kOurSeedByte 0xf0 as in handshake_fuzz.cpp) or is by another key.
    {
        for (const char* h : {"enr_fuzz", "handshake_fuzz"}) std::filesystem::create_directories(root_dir + "/" + h);
        const auto stranger = *dht::KeyPair::from_secret(Bytes(32, 0x42));
        const auto record =
            *dht::NodeRecord::sign(3, {{"ip", Bytes{0x84, 127, 0, 0, 1}}, {"tcp", Bytes{0x82, 0x76, 0x5f}}}, stranger);
        put_file(root_dir + "/enr_fuzz/seed-record", Bytes{0} + record.encoded());
        put_file(root_dir + "/enr_fuzz/seed-text", Bytes{1} + to_bytes(record.to_text()));
        put_file(root_dir + "/enr_fuzz/seed-sign",
                 Bytes{2, 5, 2, 'i', 'p', 4, 127, 0, 0, 1, 3, 't', 'c', 'p', 2, 0x76, 0x5f});

        Hash seed{};
        seed.fill(0xf0);
        const auto ours = *dht::KeyPair::from_secret(Bytes(32, 0x01));
        std::optional<proto::HandshakeNonce> first_nonce;
        dht::Handshake us{ours,
                          *dht::NodeRecord::sign(1, {}, ours),
                          dht::HandshakeOptions{std::chrono::seconds{5}, seed},
                          [&](proto::PeerId, Bytes f) { first_nonce = proto::decode_hello(f)->nonce; },
                          [](proto::PeerId, const std::string&) {},
                          [](proto::PeerId, const dht::NodeRecord&, proto::Time) {}};
        us.on_connect(1, proto::Time{0});
        const Bytes hello = proto::encode(proto::Hello{proto::kHandshakeVersion, record.encoded(), {}});
        auto auth_by = [&](const dht::KeyPair& signer) {
            return proto::encode(
                proto::Auth{dht::sign(signer, dht::auth_digest(*first_nonce, ours.node_id, stranger.node_id))});
        };
        auto op = [](uint8_t op_code, const Bytes& f) {
            return Bytes{op_code, static_cast<uint8_t>(f.size() >> 8), static_cast<uint8_t>(f.size())} + f;
        };
        // Peers 1 and 2 have an honest side; 3 and 4 are the input's alone.
        put_file(root_dir + "/handshake_fuzz/seed-honest", op(4 | 8, {}) + op(4 | 1, {}) + op(8 | 1, {}));
        put_file(root_dir + "/handshake_fuzz/seed-stranger",
                 op(4 | 2, hello) + op(2, auth_by(stranger)) + op(16 | 2, Bytes{0x20, 0xc0}) + op(128 | 2, {}));
        put_file(root_dir + "/handshake_fuzz/seed-wrong-key",
                 op(4 | 2, hello) + op(16 | 2, auth_by(ours)) + op(4 | 8, {}));
        put_file(root_dir + "/handshake_fuzz/seed-expect", op(4 | 32, {}) + op(8, {}) + op(8 | 32 | 64, Bytes{1}));
    }
    // discovery_packet_fuzz: [mode: odd re-hashes][packet]: sealed DHT requests and the largest
    // frame, as they are (mode 0) and for the signature path (mode 1), and a packet one byte short.
    {
        const std::string packet_dir = root_dir + "/discovery_packet_fuzz";
        std::filesystem::create_directories(packet_dir);
        const auto key = dht::KeyPair::from_secret(Bytes(32, 0x11));
        const Hash id = keccak256(Bytes{9});
        const Bytes frames[] = {proto::encode(proto::DiscoveryPing{1, Bytes{0xc0}}),
                                proto::encode(proto::DiscoveryFindNodes{2, id, 16}),
                                Bytes(dht::kMaxDiscoveryFrameSize, 0x01)};
        int i = 0;
        for (const Bytes& frame : frames) {
            const Bytes packet = *dht::seal(*key, frame);
            for (const uint8_t mode : {0, 1}) {
                put_file(packet_dir + "/seed-" + std::to_string(i++), Bytes{mode} + packet);
            }
        }
        put_file(packet_dir + "/seed-short", Bytes{1} + Bytes(dht::kPacketHeaderSize, 0));
    }
    return 0;
}
