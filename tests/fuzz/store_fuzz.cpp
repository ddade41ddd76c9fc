// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
//
// libFuzzer harness: StateStore opening a damaged database directory. A small state (a generated
// genesis and two blocks, RocksKV) is written once; each input copies it and edits its files, as a
// sequence of [u8 file][u8 op][u32 big-endian offset][u8 length][length bytes]: op 0 overwrites at
// offset (modulo the size), 1 truncates at offset, 2 deletes the file, 3 replaces it with the bytes,
// 4 adds a file of the bytes. Then RocksKV::open (read-only or not: the first byte's low bit),
// StateStore::open, and, if that succeeds, reads of the head, some leaves, nodes and diffs, and
// verify(). Errors are fine; a crash or sanitizer report is a finding. (RocksDB itself is not
// instrumented: this fuzzes what carousel makes of what RocksDB returns.)
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include <carousel/state/chain_generator.hpp>
#include <carousel/store/rocks_kv.hpp>
#include <carousel/store/state_store.hpp>
#include <carousel/store/sync_record.hpp>
#include <carousel/testing/temp_dir.hpp>

using namespace carousel;
namespace fs = std::filesystem;

namespace {

struct Template {
    store::TempDir dir{"carousel-store-fuzz-"};
    fs::path db;
    std::vector<std::string> files;  // sorted
    Template() {
        db = dir.path() / "template";
        std::unique_ptr<store::RocksKV> kv;
        if (!store::RocksKV::open(db, kv).ok()) std::abort();
        auto st = store::StateStore::open(*kv);
        if (!st) std::abort();
        state::GeneratorConfig cfg;
        cfg.seed = 3;
        cfg.accounts = 60;
        cfg.max_contract_slots = 20;
        state::ChainGenerator gen{cfg};
        auto genesis = gen.genesis();
        if (!genesis || !(*st)->apply_block(*genesis).ok()) std::abort();
        for (int i = 0; i < 2; ++i) {
            auto b = gen.next_block();
            if (!b || !(*st)->apply_block(*b).ok()) std::abort();
        }
        st->reset();
        kv.reset();
        for (const auto& e : fs::directory_iterator{db}) files.push_back(e.path().filename().string());
        std::sort(files.begin(), files.end());
    }
};

Template& templ() {
    static Template t;
    return t;
}

Bytes read_all(const fs::path& p) {
    std::ifstream in{p, std::ios::binary};
    return Bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

void write_all(const fs::path& p, ByteView b) {
    std::ofstream out{p, std::ios::binary | std::ios::trunc};
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Template& t = templ();
    if (size < 1) return 0;
    const bool read_only = (data[0] & 1) != 0;
    const fs::path work = t.dir.path() / "work";
    std::error_code ec;
    fs::remove_all(work, ec);
    fs::copy(t.db, work, ec);
    if (ec) std::abort();
    ByteView in{data + 1, size - 1};
    int added = 0;
    while (in.size() >= 7) {
        const std::string& name = t.files[in[0] % t.files.size()];
        const uint8_t op = in[1] % 5;
        const std::size_t offset =
            (std::size_t{in[2]} << 24) | (std::size_t{in[3]} << 16) | (std::size_t{in[4]} << 8) | in[5];
        const std::size_t n = std::min<std::size_t>(in[6], in.size() - 7);
        const ByteView bytes = in.substr(7, n);
        in.remove_prefix(7 + n);
        const fs::path file = work / name;
        if (op == 4) {
            write_all(work / ("added-" + std::to_string(added++)), bytes);
            continue;
        }
        if (!fs::exists(file, ec)) continue;
        if (op == 2) {
            fs::remove(file, ec);
            continue;
        }
        if (op == 3) {
            write_all(file, bytes);
            continue;
        }
        Bytes content = read_all(file);
        if (content.empty()) continue;
        const std::size_t at = offset % content.size();
        if (op == 1) {
            content.resize(at);
        } else {
            for (std::size_t i = 0; i < bytes.size() && at + i < content.size(); ++i) content[at + i] = bytes[i];
        }
        write_all(file, content);
    }

    store::RocksKV::Options options;
    options.create_if_missing = false;
    options.read_only = read_only;
    options.block_cache_bytes = std::size_t{1} << 20;
    options.write_buffer_bytes = std::size_t{1} << 20;
    std::unique_ptr<store::RocksKV> kv;
    if (!store::RocksKV::open(work, options, kv).ok()) return 0;
    (void)store::read_sync_record(*kv);
    auto st = store::StateStore::open(*kv);
    if (!st) return 0;
    const auto head = (*st)->head();
    (void)(*st)->node(head.root);
    int leaves = 0;
    for (auto it = (*st)->account_leaves(Hash{}); it.valid() && leaves < 50; it.next()) ++leaves;
    if (head.block) (void)(*st)->diff(*head.block);
    (void)(*st)->verify();
    return 0;
}
